/**
 * Projection pushdown through a window table function (core/sql/window-prune.ts): below TUMBLE,
 * HOP or CUMULATE only the columns read above it and its time column are kept, merged into the
 * calc below; the operators and their uids are those of the unpruned plan.
 */
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../core/api/environment.ts";
import { planJob } from "../../core/graph/planner.ts";
import { explain, planSql, sqlJob } from "../../core/sql/session.ts";

const DDL = `CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, url VARCHAR, \`dateTime\` TIMESTAMP(3),
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE counts (auction BIGINT, n BIGINT, ws TIMESTAMP(3)) WITH ('connector' = 'blackhole');
`;
/** Over a view, as the Nexmark queries read bids: its filter's calc takes the pruned projection. */
const VIEW = "CREATE VIEW cheap AS SELECT * FROM bid WHERE price < 1000;\n";
const HOT = `INSERT INTO counts SELECT auction, COUNT(*), window_start FROM TABLE(
  HOP(TABLE cheap, DESCRIPTOR(\`dateTime\`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
  WHERE price > 10 GROUP BY auction, window_start, window_end`;
/** Straight over the table: no calc below the window function to merge into, so nothing moves. */
const DIRECT = HOT.replace("TABLE cheap", "TABLE bid");

const physicalOf = (sql: string) =>
  explain(planSql(DDL + sql).inserts[0] as NonNullable<ReturnType<typeof planSql>["inserts"][0]>).split(
    "== Physical Plan ==",
  )[1] as string;

describe("projection pushdown through a window TVF", () => {
  it("keeps below the window function only the columns read above it and its time", () => {
    const physical = physicalOf(VIEW + HOT);
    expect(physical).toContain("WindowTableFunction(HOP(time=[dateTime], slide=[2000 ms], size=[10000 ms]))");
    expect(physical).toContain("Calc(where=[(price < 1000)], select=[auction, price, dateTime]) → filter + map"); // no bidder, no url
    expect(physical).toContain("Calc(where=[(price > 10)], select=[auction, window_start, window_end])");
    expect(physicalOf(DIRECT)).not.toContain("Calc(select=[auction, price, dateTime])");
  });

  it("leaves the stateful operators' uids as they were", () => {
    const tasks = (sql: string) => planJob(buildGraph(sqlJob("prune", DDL + sql))).tasks.map((t) => t.id);
    expect(tasks(VIEW + HOT)).toEqual(["sql-0", "sql-5-w3"]);
    expect(tasks(DIRECT)).toEqual(["sql-0", "sql-3-w3"]);
  });
});
