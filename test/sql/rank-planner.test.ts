/**
 * Planning window functions: ROW_NUMBER() OVER with a filter on it becomes a TopN or a
 * deduplication, OVER aggregates become an OverAggregate; their changelog modes, EXPLAIN, the
 * refusal of an updating query into an append-only sink, and the precise errors of the shapes
 * riffle does not run.
 */
import { describe, expect, it } from "vitest";
import { SqlError } from "../../core/sql/errors.ts";
import { changelogMode } from "../../core/sql/logical.ts";
import { explain, planSql } from "../../core/sql/session.ts";

const DDL = `CREATE TABLE bid (
  auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, \`dateTime\` TIMESTAMP(3),
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND
) WITH ('connector' = 'datagen');
CREATE TABLE last_bid (auction BIGINT, bidder BIGINT, price BIGINT) WITH ('connector' = 'print');
CREATE TABLE top_bids (auction BIGINT, price BIGINT, rn BIGINT) WITH ('connector' = 'print');
CREATE TABLE avg_price (auction BIGINT, a BIGINT) WITH ('connector' = 'print');
CREATE TABLE append_only (auction BIGINT, bidder BIGINT, price BIGINT) WITH ('connector' = 'print', 'changelog-mode' = 'insert-only');
`;
/** The first line after the DDL. */
const L = 9;

const LAST_BID = `SELECT auction, bidder, price FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY \`dateTime\` DESC) AS rn FROM bid) WHERE rn = 1`;
const TOP3 = (filter: string) => `SELECT auction, price, rn FROM (
  SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bid) WHERE ${filter}`;

const plan = (sql: string) => planSql(DDL + sql).inserts[0] as NonNullable<ReturnType<typeof planSql>["inserts"][0]>;
const physical = (sql: string) => explain(plan(sql)).split("== Physical Plan ==")[1] as string;

function planError(sql: string): SqlError {
  try {
    planSql(DDL + sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`planned: ${sql}`);
}

describe("TopN and deduplication plans", () => {
  it("plans rn = 1 ordered by time as a deduplication that emits +I, -U, +U", () => {
    const p = plan(`INSERT INTO last_bid ${LAST_BID}`);
    expect(changelogMode(p.optimized)).toEqual(["+I", "-U", "+U"]);
    expect(physical(`INSERT INTO last_bid ${LAST_BID}`)).toContain(
      "Deduplicate(keep=[LastRow], key=[auction], order=[dateTime]) → keyBy + keyed process, changelogMode=[I,UB,UA]",
    );
  });

  it("plans rn <= N as a TopN, with the row number in its output only when it is read", () => {
    const top = physical(`INSERT INTO top_bids ${TOP3("rn <= 3")}`);
    // The columns nothing reads are pruned below the rank (rank-prune.ts).
    expect(top).toContain(
      "Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=3], partitionBy=[auction], orderBy=[price DESC], select=[auction, price, w0$ROW_NUMBER]) → keyBy + keyed process, changelogMode=[I,UB,UA,D]",
    );
    expect(physical(`INSERT INTO top_bids ${TOP3("rn < 4")}`)).toContain("rankEnd=3]");
    const between = physical(`INSERT INTO top_bids ${TOP3("rn <= 3 AND rn > 1")}`);
    expect(between).toContain("Calc(where=[(w0$ROW_NUMBER > 1)]");
    const dropped = physical(`INSERT INTO last_bid SELECT auction, price, price FROM (${TOP3("rn <= 2")})`);
    expect(dropped).toContain("select=[auction, price]) → keyBy");
  });

  it("runs a TopN over an updating input with the retract strategy", () => {
    const sql = `INSERT INTO top_bids SELECT auction, n, rn FROM (
      SELECT auction, n, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY n DESC) AS rn
      FROM (SELECT auction, bidder, COUNT(*) AS n FROM bid GROUP BY auction, bidder)) WHERE rn <= 2`;
    expect(physical(sql)).toContain("Rank(strategy=[RetractStrategy]");
    expect(changelogMode(plan(sql).optimized)).toEqual(["+I", "-U", "+U", "-D"]);
  });

  it("refuses a TopN or a deduplication into an append-only sink, saying why", () => {
    const e = planError(`INSERT INTO append_only SELECT auction, price, rn FROM (${TOP3("rn <= 3")})`);
    expect(e.kind).toBe("changelog");
    expect(e.message).toBe(
      `line ${L}, column 1: table 'append_only' (connector 'print') accepts only [+I], but the query produces [+I, -U, +U, -D]: a TopN (ROW_NUMBER … rn <= N) retracts rows that leave the top N`,
    );
    expect(planError(`INSERT INTO append_only ${LAST_BID}`).message).toBe(
      `line ${L}, column 1: table 'append_only' (connector 'print') accepts only [+I], but the query produces [+I, -U, +U]: a deduplication (ROW_NUMBER … rn = 1) replaces a key's row when a later one comes`,
    );
  });
});

describe("OVER aggregate plans", () => {
  const OVER = (frame: string) =>
    `INSERT INTO avg_price SELECT auction, AVG(price) OVER (PARTITION BY auction ORDER BY \`dateTime\` ${frame}) FROM bid`;

  it("plans an OVER aggregate over an insert-only input as an insert-only, event-time operator", () => {
    expect(changelogMode(plan(OVER("ROWS BETWEEN 10 PRECEDING AND CURRENT ROW")).optimized)).toEqual(["+I"]);
    expect(physical(OVER("ROWS BETWEEN 10 PRECEDING AND CURRENT ROW"))).toContain(
      "OverAggregate(partitionBy=[auction], orderBy=[dateTime], window=[ROWS BETWEEN 10 PRECEDING AND CURRENT ROW], select=[AVG(price) AS w0$AVG]) → keyBy + keyed process with event-time timers, changelogMode=[I]",
    );
    expect(physical(OVER("RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND CURRENT ROW"))).toContain(
      "window=[RANGE BETWEEN INTERVAL 60000 ms PRECEDING AND CURRENT ROW]",
    );
    expect(physical(OVER(""))).toContain("window=[RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW]");
  });

  it("applies the WHERE before the window functions", () => {
    const text = explain(plan(`${OVER("")} WHERE price > 10`));
    const logical = text.slice(text.indexOf("== Optimized Logical Plan =="), text.indexOf("== Physical Plan =="));
    expect(logical.indexOf("LogicalWindow")).toBeLessThan(logical.indexOf("where=[(price > 10)]"));
  });
});

describe("window functions riffle does not run", () => {
  const cases: [string, string][] = [
    [
      "INSERT INTO top_bids SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) FROM bid",
      `line ${L}, column 45: ROW_NUMBER() OVER (…) without a filter 'rn <= N' or 'rn = 1' on it in the query around it (TopN) is not supported yet`,
    ],
    [
      "INSERT INTO top_bids SELECT auction, price, RANK() OVER (PARTITION BY auction ORDER BY price DESC) FROM bid",
      `line ${L}, column 45: the window function RANK() OVER (…) (only ROW_NUMBER and aggregates) is not supported yet`,
    ],
    [
      "INSERT INTO avg_price SELECT auction, SUM(price) OVER (PARTITION BY auction ORDER BY price) FROM bid",
      `line ${L}, column 39: an OVER aggregate not ordered by one ascending TIMESTAMP column (its time attribute) is not supported yet`,
    ],
    [
      "INSERT INTO avg_price SELECT auction, SUM(price) OVER (ORDER BY `dateTime` ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM bid",
      `line ${L}, column 39: a window frame that does not end at CURRENT ROW (as in Flink) is not supported yet`,
    ],
    [
      "INSERT INTO top_bids SELECT auction, SUM(price) OVER (ORDER BY `dateTime`), MAX(price) OVER (PARTITION BY auction ORDER BY `dateTime`) FROM bid",
      `line ${L}, column 77: window functions over different windows in one SELECT is not supported yet`,
    ],
    [
      "INSERT INTO avg_price SELECT auction, SUM(price + 1) OVER (ORDER BY `dateTime`) FROM bid",
      `line ${L}, column 39: an OVER aggregate of an expression (name a column, computed in a subquery) is not supported yet`,
    ],
    [
      "INSERT INTO avg_price SELECT auction, price FROM bid WHERE ROW_NUMBER() OVER (ORDER BY price) = 1",
      `line ${L}, column 60: ROW_NUMBER(…) OVER (…) in WHERE is not supported yet`,
    ],
  ];
  for (const [sql, message] of cases)
    it(message.replace(/^line \d+, column \d+: /, ""), () => {
      expect(planError(sql).message).toBe(message);
    });

  it("names a misused ROW_NUMBER", () => {
    expect(
      planError("INSERT INTO top_bids SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction) FROM bid")
        .message,
    ).toBe(`line ${L}, column 45: ROW_NUMBER() OVER (…) needs an ORDER BY`);
  });
});

describe("what the public q6 needs, which Flink refuses", () => {
  it("reads a WHERE naming a window function's alias of the same SELECT as a filter after it", () => {
    const sql = `INSERT INTO top_bids SELECT auction, price, rn FROM (
      SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bid WHERE rn <= 2)`;
    expect(physical(sql)).toContain("rankRange=[rankStart=1, rankEnd=2]");
  });

  it("lets an unaliased subquery's columns keep the qualifier they were selected with", () => {
    const sql =
      "INSERT INTO last_bid SELECT B.auction, B.bidder, B.price FROM (SELECT B.auction, B.bidder, B.price FROM bid AS B)";
    expect(() => plan(sql)).not.toThrow();
    expect(planError(sql.replace("SELECT B.auction, B.bidder", "SELECT C.auction, B.bidder")).message).toMatch(
      /unknown column 'C.auction'/,
    );
  });

  it("casts a number into a VARCHAR sink column, and still refuses a string into a number column", () => {
    const sql =
      "CREATE TABLE names (a VARCHAR, b BIGINT) WITH ('connector' = 'print'); INSERT INTO names SELECT auction, price FROM bid";
    expect(physical(sql)).toContain("Calc(select=[CAST(auction AS VARCHAR) AS auction, price])");
    expect(planError(sql.replace("SELECT auction, price", "SELECT auction, channel")).message).toMatch(
      /column 2 'b' of table 'names' is BIGINT, but the query gives VARCHAR/,
    );
  });
});
