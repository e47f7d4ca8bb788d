/**
 * The uids of a SQL job's stateful operators are where a savepoint keeps their state, so a
 * change to how a plan is built (fusing operators, dropping a wrapper) must not move a later
 * operator onto another uid: its state would be refused or, worse, read by the wrong operator.
 * The expected uids are those the same scripts had before the change that fused
 * processing-time window aggregates (`e2744a5`), the window aggregate's own uid aside (its
 * state layout changed, so its uid gained a version suffix on purpose).
 */
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../core/api/environment.ts";
import { planJob } from "../../core/graph/planner.ts";
import { sqlJob } from "../../core/sql/session.ts";

const DDL = `
CREATE TABLE b (auction BIGINT, bidder BIGINT, price BIGINT, p AS PROCTIME()) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE out1 (bidder BIGINT, c BIGINT, ws TIMESTAMP(3), rn BIGINT) WITH ('connector' = 'blackhole');
`;

/** The uids of the keyed (stateful) task heads of `script`'s job, in plan order. */
function keyedUids(script: string): string[] {
  const plan = planJob(buildGraph(sqlJob("uids", script)));
  return plan.tasks.filter((t) => t.keyed).map((t) => t.id);
}

describe("SQL operator uids", () => {
  it("a TopN after a processing-time window aggregate keeps its uid now that the aggregate is fused", () => {
    const script = `${DDL}
INSERT INTO out1 SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ws ORDER BY c DESC) AS rn FROM (
  SELECT bidder, COUNT(*) AS c, window_start AS ws FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(p), INTERVAL '10' SECOND))
  GROUP BY bidder, window_start, window_end)) WHERE rn <= 3;`;
    expect(keyedUids(script)).toEqual(["sql-4-w3", "sql-7"]);
  });
});
