/**
 * Projection pushdown through a rank (core/sql/rank-prune.ts): the columns that nothing above a
 * TopN reads, and that are none of its keys, are dropped below it, down into a join's sides; the
 * rank and a join whose rows lost columns end their uids in `-n`; the calcs the rule adds take
 * uids outside the plan's sequence, so no other operator moves; a rank that needs every column
 * keeps its plan and uid.
 */
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../core/api/environment.ts";
import { planJob } from "../../core/graph/planner.ts";
import { explain, planSql, sqlJob } from "../../core/sql/session.ts";

const DDL = `CREATE TABLE auction (id BIGINT, seller BIGINT, category BIGINT, extra VARCHAR, \`dateTime\` TIMESTAMP(3),
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, url VARCHAR, \`dateTime\` TIMESTAMP(3),
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE best (id BIGINT, seller BIGINT, price BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE cnt (auction BIGINT, n BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE top_bids (auction BIGINT, bidder BIGINT, price BIGINT, url VARCHAR, t TIMESTAMP(3)) WITH ('connector' = 'blackhole');
`;

const winners = (columns: string) => `SELECT ${columns} FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC) AS rn
  FROM auction A JOIN bid B ON A.id = B.auction AND B.\`dateTime\` BETWEEN A.\`dateTime\` AND A.\`dateTime\` + INTERVAL '10' SECOND)
WHERE rn <= 1`;

const physical = (sql: string) =>
  explain(planSql(DDL + sql).inserts[0] as NonNullable<ReturnType<typeof planSql>["inserts"][0]>).split(
    "== Physical Plan ==",
  )[1] as string;

/** The uids of the keyed (stateful) task heads of `sql`'s job. */
const keyedUids = (sql: string) =>
  planJob(buildGraph(sqlJob("prune", DDL + sql)))
    .tasks.filter((t) => t.keyed)
    .map((t) => t.id);

describe("projection pushdown through a rank", () => {
  it("drops the columns nothing reads below the TopN and into the join's sides", () => {
    const plan = physical(`INSERT INTO best ${winners("id, seller, price")}`);
    expect(plan).toContain("partitionBy=[id], orderBy=[price DESC], select=[id, seller, price])");
    expect(plan).toContain("Calc(select=[id, seller, price]) → in the join");
    expect(plan).toContain("Calc(select=[auction, price, dateTime]) → filter + map"); // bid: no bidder, no url
    expect(plan).toContain("Calc(select=[id, seller, dateTime]) → filter + map"); // auction: no category, no extra
    // Before the rule: sql-5-b1 and sql-7. The new calcs take uids outside the sequence (sql-s…).
    expect(keyedUids(`INSERT INTO best ${winners("id, seller, price")}`)).toEqual(["sql-5-b1-n", "sql-7-n"]);
  });

  it("moves no later operator onto another uid", () => {
    const counts = `INSERT INTO cnt SELECT auction, COUNT(*) FROM (SELECT auction, price FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bid) WHERE rn <= 2) GROUP BY auction`;
    expect(physical(counts)).toContain("Calc(select=[auction, price]) → filter + map"); // new below the rank
    expect(keyedUids(counts)).toEqual(["sql-3-n", "sql-5"]); // before the rule: sql-3 and sql-5
  });

  it("keeps the plan and the uid of a TopN whose every column is read", () => {
    const top = `INSERT INTO top_bids SELECT auction, bidder, price, url, \`dateTime\` FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bid) WHERE rn <= 2`;
    const plan = physical(top);
    expect(plan).toContain("orderBy=[price DESC], select=[auction, bidder, price, url, dateTime]) → keyBy");
    expect(plan).not.toContain("Calc(");
    expect(keyedUids(top)).toEqual(["sql-3"]); // as before the rule
  });
});
