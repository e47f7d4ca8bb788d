/** Lookup and changelog reads: the same row policy and masks as a query, applied row by row. */
import { describe, expect, it } from "vitest";
import { boundedClassifier } from "../../core/governance/classify.ts";
import { ForbiddenError } from "../../core/governance/principal.ts";
import { rowGovernor } from "../../core/governance/rows.ts";
import { planSql } from "../../core/sql/session.ts";
import { CARDS, FRAUD, NORTH, writeWarehouse } from "./fixtures.ts";

describe("rowGovernor", () => {
  const { ddl, orders } = writeWarehouse();
  const table = planSql(ddl).catalog.table("orders", { line: 0, column: 0 });
  const rows = orders.map((o) => [o.id, o.customer, o.region, o.amount, o.card, o.email]);
  const sensitive = boundedClassifier();

  it("hides the rows the policy excludes and masks the rest, as the query rewrite does", () => {
    const g = rowGovernor(table, { principal: NORTH, sensitive });
    const seen = rows.map(g.view);
    rows.forEach((r, i) => {
      const v = seen[i];
      if (r[2] !== "north") expect(v).toBeUndefined();
      else {
        expect(v?.slice(0, 4)).toEqual(r.slice(0, 4));
        expect(v?.[4]).toBe(`${"*".repeat(String(r[4]).length - 4)}${String(r[4]).slice(-4)}`);
        expect(v?.[5]).toMatch(/^c\*\*\*@example\.com$/);
      }
    });
    expect(seen.some((v) => v !== undefined)).toBe(true);
    expect(g.report).toEqual({
      tables: ["orders"],
      predicates: ["orders: region = 'north'"],
      masked: ["orders.card", "orders.email"],
    });
  });

  it("passes rows through for a principal with no policy and unmask, and refuses one without the grant", () => {
    const g = rowGovernor(table, { principal: FRAUD, sensitive });
    expect(rows.map(g.view)).toEqual(rows);
    expect(rows.some((r) => CARDS.includes(String(r[4])))).toBe(true);
    expect(() => rowGovernor(table, { principal: { name: "x", grants: ["read:customers"] } })).toThrow(ForbiddenError);
  });
});
