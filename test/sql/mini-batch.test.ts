/**
 * Mini-batch group aggregation (`table.exec.mini-batch.enabled`, on by default): one change per
 * key per input envelope instead of a -U/+U pair per row. The committed table equals DuckDB's with
 * and without it, at parallelism 1 and 3 and under injected faults (crashes, duplicates, zombies,
 * failovers: test/sim), over a retracting input (an aggregate over an aggregate) and with
 * COUNT(DISTINCT …) FILTER; the changelog is much shorter with it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkScript } from "./nexmark/script.ts";

const EVENTS = 2000;
const SINK = "CREATE TABLE out (k BIGINT, a BIGINT, b BIGINT) WITH ('connector' = 'print')";

const CASES: { name: string; sql: string; duck: string }[] = [
  {
    name: "an aggregate over an aggregate (retracting input): bidders by their number of bids",
    sql: `INSERT INTO out SELECT n, COUNT(*), SUM(mx) FROM (
            SELECT bidder, COUNT(*) AS n, MAX(price) AS mx FROM bid GROUP BY bidder) GROUP BY n`,
    duck: `SELECT n AS k, COUNT(*) AS a, SUM(mx) AS b FROM (
             SELECT bidder, COUNT(*) AS n, MAX(price) AS mx FROM bid GROUP BY bidder) GROUP BY n`,
  },
  {
    name: "COUNT(DISTINCT …) with FILTER per auction",
    sql: `INSERT INTO out SELECT auction, COUNT(DISTINCT bidder),
            COUNT(DISTINCT bidder) FILTER (WHERE price >= 1000000) FROM bid GROUP BY auction`,
    duck: `SELECT auction AS k, COUNT(DISTINCT bidder) AS a,
             COUNT(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS b FROM bid GROUP BY auction`,
  },
];

describe("mini-batch group aggregation vs DuckDB, on and off, with and without injected faults", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS);
  });
  afterAll(() => oracle?.close());

  const script = (sql: string, miniBatch: boolean) =>
    `${nexmarkScript("q0", EVENTS, 10_000).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "")}${SINK};
SET 'table.exec.mini-batch.enabled' = '${miniBatch}';
${sql}`;
  const diff = (out: ReadonlyMap<string, readonly unknown[]>, expected: Record<string, unknown>[]) =>
    compareMultisets(foldChangelog(out.get("out") ?? []), expected);

  for (const c of CASES) {
    it(`${c.name}: at parallelism 1 and 3, and under faults (seeds 1-2)`, async () => {
      const expected = await oracle.runSql(c.duck);
      expect(expected.length).toBeGreaterThan(0);
      const changes: Record<string, number> = {};
      for (const miniBatch of [true, false]) {
        for (const parallelism of [1, 3]) {
          const out = await runToCompletion(sqlJob("mb", script(c.sql, miniBatch)), {
            clock: new ManualClock(),
            parallelism,
          });
          expect(diff(out, expected), `mini-batch ${miniBatch}, parallelism ${parallelism}`).toEqual([]);
          if (parallelism === 1) changes[String(miniBatch)] = out.get("out")?.length ?? 0;
        }
      }
      // Without mini-batch a change per input row (and its retraction); with it, per key and envelope.
      expect(changes.true).toBeLessThan((changes.false ?? 0) / 2);
      for (const seed of [1, 2]) {
        const job = sqlJob("mb", script(c.sql, true));
        const r = await simulate({ name: "sql-mini-batch", job, check: (out) => diff(out, expected) }, seed);
        expect(r.diffs, `seed ${seed}`).toEqual([]);
      }
    });
  }

  it("refuses an unknown option and a value that is not 'true' or 'false', with line and column", () => {
    const refusal = (text: string) => {
      try {
        planSql(text);
      } catch (e) {
        if (e instanceof SqlError) return e.message;
        throw e;
      }
      return "accepted";
    };
    expect(refusal("SET 'table.exec.mini-batch.size' = '5000'")).toBe(
      "line 1, column 1: SET 'table.exec.mini-batch.size' (the options are: table.exec.mini-batch.enabled) is not supported yet",
    );
    expect(refusal("\n  SET 'table.exec.mini-batch.enabled' = 'yes'")).toBe(
      "line 2, column 3: 'table.exec.mini-batch.enabled' is 'true' or 'false', not 'yes'",
    );
  });
});
