/** The rewrite's plan shape and its refusals: where the filter and masks go, and policy SQL that does not fit its table. */
import { describe, expect, it } from "vitest";
import { PolicyError } from "../../core/governance/policy-sql.ts";
import type { Principal } from "../../core/governance/principal.ts";
import { applyGovernance } from "../../core/governance/rewrite.ts";
import { describeLogical } from "../../core/sql/explain-plan.ts";
import { SqlSession } from "../../core/sql/session.ts";

const DDL = `CREATE TABLE t (id BIGINT, region VARCHAR, card VARCHAR) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
  CREATE VIEW v AS SELECT id, card FROM t;`;

function plan(principal: Principal, query: string): string[] {
  const session = new SqlSession({ rewrite: (rel) => applyGovernance(rel, { principal }).rel });
  session.execute(DDL);
  return describeLogical(session.query(query).logical);
}

const reader = (policies: Principal["policies"]): Principal => ({ name: "p", grants: ["read:t"], policies });

describe("applyGovernance", () => {
  it("puts the filter and the masks directly over every scan, a view's included", () => {
    const lines = plan(
      reader({ t: { rows: "region = 'north'", masks: { card: "mask_card(card)" } } }),
      "SELECT a.id FROM v a JOIN t b ON a.id = b.id",
    );
    const scans = lines.flatMap((l, i) => (l.includes("LogicalTableScan") ? [i] : []));
    expect(scans).toHaveLength(2);
    for (const i of scans) {
      expect(lines[i - 1]).toContain("LogicalCalc(where=[(region = 'north')], select=[id, region, MASK_CARD(card)])");
    }
  });

  it("refuses policy SQL that does not fit the table, naming principal, table and problem", () => {
    const cases: [Principal["policies"], string][] = [
      [
        { t: { rows: "nope = 1" } },
        "row policy of principal 'p' on table 't': line 1, column 8: unknown column 'nope'",
      ],
      [{ t: { rows: "id + 1" } }, "'id + 1' is BIGINT, not BOOLEAN"],
      [{ t: { masks: { id: "mask_card(card)" } } }, "'mask_card(card)' is VARCHAR, but column 'id' is BIGINT"],
      [{ t: { masks: { nope: "mask(nope)" } } }, "the table has no column 'nope'"],
      [{ t: { rows: "region = 'a', id" } }, "is not one expression"],
      [{ t: { rows: "1 = 1 FROM t" } }, "unexpected 'FROM'"],
    ];
    for (const [policies, message] of cases) {
      expect(() => plan(reader(policies), "SELECT id FROM t")).toThrow(PolicyError);
      expect(() => plan(reader(policies), "SELECT id FROM t")).toThrow(message);
    }
  });
});
