/** Grants and masking functions: what each grant covers, and what each mask keeps. */
import { describe, expect, it } from "vitest";
import { maskCard, maskEmail, maskPhone } from "../../core/governance/masks.ts";
import { authorize, checkGrant, ForbiddenError, GrantError, hasGrant } from "../../core/governance/principal.ts";

describe("grants", () => {
  const p = (...grants: string[]) => ({ name: "p", grants });

  it("covers exactly what it names, its wildcard, and admin covers monitor", () => {
    expect(hasGrant(p("read:orders"), "read:orders")).toBe(true);
    expect(hasGrant(p("read:orders"), "read:customers")).toBe(false);
    expect(hasGrant(p("read:*"), "read:customers")).toBe(true);
    expect(hasGrant(p("read:*"), "ingest:clicks")).toBe(false);
    expect(hasGrant(p("ingest:*"), "ingest:clicks")).toBe(true);
    expect(hasGrant(p("admin"), "monitor")).toBe(true);
    expect(hasGrant(p("monitor"), "admin")).toBe(false);
    expect(hasGrant(p("admin"), "auditor")).toBe(false);
    expect(hasGrant(p("admin"), "unmask")).toBe(false);
    expect(hasGrant(p("*"), "auditor")).toBe(true);
  });

  it("refuses with the grant named", () => {
    expect(() => authorize(p("read:orders"), "admin", "take a savepoint")).toThrow(
      new ForbiddenError("p", "admin", "take a savepoint"),
    );
    expect(() => authorize(p("read:orders"), "admin", "take a savepoint")).toThrow(
      "principal 'p' lacks grant 'admin' needed to take a savepoint",
    );
  });

  it("knows the grants by spelling", () => {
    for (const g of ["read:t", "read:*", "ingest:s", "admin", "monitor", "auditor", "unmask", "*"])
      expect(checkGrant(g)).toBe(g);
    for (const g of ["read", "read:", "write:t", "Admin", ""]) expect(() => checkGrant(g)).toThrow(GrantError);
  });
});

describe("masks", () => {
  it("keep what tells values apart and hide the rest", () => {
    expect(maskCard("4111 1111 1111 1234")).toBe("**** **** **** 1234");
    expect(maskCard("378282246310005")).toBe("***********0005");
    expect(maskEmail("ada.lovelace@example.com")).toBe("a***@example.com");
    expect(maskEmail("no-at-sign")).toBe("****");
    expect(maskPhone("+44 20 7946 0958")).toBe("+** ** **** **58");
  });
});
