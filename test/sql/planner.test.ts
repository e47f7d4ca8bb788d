/** Binder, optimizer, changelog modes and EXPLAIN: what a script plans to, and the precise errors of bad SQL. */
import { describe, expect, it } from "vitest";
import { SqlError } from "../../core/sql/errors.ts";
import { changelogMode } from "../../core/sql/logical.ts";
import { explain, planSql } from "../../core/sql/session.ts";

const BIDS = `CREATE TABLE bid (
  auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, \`dateTime\` TIMESTAMP(3),
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND
) WITH ('connector' = 'datagen');
CREATE TABLE out1 (a BIGINT, b BIGINT) WITH ('connector' = 'print');
CREATE TABLE appendOnly (a BIGINT, b BIGINT) WITH ('connector' = 'print', 'changelog-mode' = 'insert-only');
`;

function planError(sql: string): SqlError {
  try {
    planSql(BIDS + sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`planned: ${sql}`);
}

/** Line 7 is the first line after the DDL above. */
const L = 7;

describe("binder errors", () => {
  it("names an unknown table or column with its line and column", () => {
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bids").message).toBe(
      `line ${L}, column 45: unknown table 'bids'`,
    );
    expect(planError("INSERT INTO out1\nSELECT auction, prize FROM bid").message).toBe(
      `line ${L + 1}, column 17: unknown column 'prize' (available: auction, bidder, price, channel, dateTime)`,
    );
    expect(planError("INSERT INTO nowhere SELECT auction, price FROM bid").message).toBe(
      `line ${L}, column 1: unknown table 'nowhere'`,
    );
  });

  it("names a type mismatch", () => {
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bid WHERE channel > 3").message).toBe(
      `line ${L}, column 63: type mismatch: cannot compare VARCHAR and INT with '>'`,
    );
    expect(planError("INSERT INTO out1 SELECT auction, channel FROM bid").message).toBe(
      `line ${L}, column 1: type mismatch: column 2 'b' of table 'out1' is BIGINT, but the query gives VARCHAR`,
    );
    expect(planError("INSERT INTO out1 SELECT auction, SUM(channel) FROM bid GROUP BY auction").message).toBe(
      `line ${L}, column 34: type mismatch: SUM takes a number, got VARCHAR`,
    );
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bid WHERE price + 1").message).toBe(
      `line ${L}, column 55: type mismatch: WHERE needs BOOLEAN, got BIGINT`,
    );
  });

  it("names an unsupported construct", () => {
    expect(
      planError("INSERT INTO out1 SELECT a.auction, b.price FROM bid a LEFT JOIN bid b ON a.price > b.price").message,
    ).toBe(`line ${L}, column 60: a join without an equality between its two sides is not supported yet`);
    expect(planError("INSERT INTO out1 SELECT a.auction, b.price FROM bid a FULL JOIN bid b").message).toBe(
      `line ${L}, column 60: a FULL OUTER join needs ON`,
    );
    expect(
      planError("INSERT INTO out1 SELECT a.auction, b.price FROM bid a, bid b WHERE a.price > b.price").message,
    ).toBe(`line ${L}, column 54: a join without an equality between its two sides is not supported yet`);
    expect(
      planError(
        "INSERT INTO out1 SELECT auction, AVG(price) OVER (PARTITION BY auction ORDER BY `dateTime`) FROM bid GROUP BY auction",
      ).message,
    ).toBe(`line ${L}, column 34: AVG(…) OVER (…) in an aggregating SELECT is not supported yet`);
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bid a UNION ALL SELECT 1, 2 FROM bid").kind).toBe(
      "unsupported",
    );
  });

  it("checks grouping", () => {
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bid GROUP BY auction").message).toBe(
      `line ${L}, column 34: column 'price' must appear in GROUP BY or in an aggregate`,
    );
    expect(planError("INSERT INTO out1 SELECT auction, price FROM bid WHERE COUNT(*) > 1").message).toBe(
      `line ${L}, column 55: aggregate COUNT is not allowed in WHERE`,
    );
  });
});

describe("changelog modes", () => {
  it("infers insert-only for projections and retract for a group aggregate", () => {
    const p = planSql(
      `${BIDS}INSERT INTO out1 SELECT auction, price FROM bid; INSERT INTO out1 SELECT auction, COUNT(*) FROM bid GROUP BY auction`,
    );
    expect(p.inserts.map((i) => changelogMode(i.optimized))).toEqual([["+I"], ["+I", "-U", "+U", "-D"]]);
  });

  it("refuses a retracting query into an insert-only sink at plan time", () => {
    const e = planError("INSERT INTO appendOnly SELECT auction, COUNT(*) FROM bid GROUP BY auction");
    expect(e.kind).toBe("changelog");
    expect(e.message).toBe(
      `line ${L}, column 1: table 'appendOnly' (connector 'print') accepts only [+I], but the query produces [+I, -U, +U, -D]: an aggregate retracts its earlier results`,
    );
    expect(() => planSql(`${BIDS}INSERT INTO appendOnly SELECT auction, price FROM bid`)).not.toThrow();
  });
});

describe("optimizer", () => {
  const optimized = (sql: string) => {
    const text = explain(planSql(BIDS + sql).inserts[0] as never);
    return text.slice(text.indexOf("== Optimized Logical Plan =="), text.indexOf("== Physical Plan =="));
  };

  it("folds constants and drops a filter that folds to TRUE", () => {
    const plan = optimized("INSERT INTO out1 SELECT auction, price * (2 + 3) FROM bid WHERE 1 + 1 = 2");
    expect(plan).toContain("select=[auction, (price * 5)]");
    expect(plan).not.toContain("where");
  });

  it("merges stacked projections and filters into one calc", () => {
    const plan = optimized(
      "INSERT INTO out1 SELECT a, b FROM (SELECT auction AS a, price AS b FROM (SELECT * FROM bid WHERE price > 10) WHERE auction > 5)",
    );
    expect(plan.match(/LogicalCalc/g)?.length).toBe(1);
    expect(plan).toContain("where=[((price > 10) AND (auction > 5))], select=[auction, price]");
  });

  it("splits a join's WHERE: one-sided conjuncts filter that side, equalities become keys, the rest stays", () => {
    const p = planSql(
      `${BIDS}EXPLAIN INSERT INTO out1 SELECT a.auction, b.price FROM bid a, bid b WHERE a.auction = b.auction AND a.price > 10 AND b.bidder < 5 AND a.price < b.price`,
    );
    const text = p.explains[0] as string;
    const physical = text.slice(text.indexOf("== Physical Plan =="));
    expect(physical).toMatch(
      /Join\(type=\[InnerJoin\], keys=\[auction = auction\], where=\[\(price < price\)\], leftInputSpec=\[NoUniqueKey\], rightInputSpec=\[NoUniqueKey\]\).*changelogMode=\[I\]/,
    );
    expect(physical).toContain("Calc(where=[(price > 10)]");
    expect(physical).toContain("Calc(where=[(bidder < 5)]");
  });

  it("pushes a filter on grouping keys below the aggregate", () => {
    const plan = optimized(
      "INSERT INTO out1 SELECT auction, COUNT(*) FROM bid GROUP BY auction HAVING auction > 1000 AND COUNT(*) > 2",
    );
    const [above, below] = plan.split("LogicalAggregate");
    expect(above).toContain("where=[(COUNT$0 > 2)]");
    expect(below).toContain("where=[(auction > 1000)]");
  });
});

describe("EXPLAIN", () => {
  it("prints the logical, optimized and physical plans with each operator's changelog mode", () => {
    const p = planSql(`${BIDS}EXPLAIN INSERT INTO out1 SELECT auction, COUNT(*) FROM bid GROUP BY auction`);
    expect(p.inserts).toEqual([]);
    const text = p.explains[0] as string;
    expect(text).toContain("== Logical Plan ==");
    expect(text).toContain("== Optimized Logical Plan ==");
    expect(text).toMatch(
      /GroupAggregate\(groupBy=\[auction\], select=\[COUNT\(\*\)\]\) → keyBy \+ keyed process, changelogMode=\[I,UB,UA,D\]/,
    );
    expect(text).toMatch(/Source\(connector=\[datagen\], table=\[bid\].*changelogMode=\[I\]/);
  });
});
