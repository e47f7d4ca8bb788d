/**
 * The same results from both APIs: each hand-written TypeScript Nexmark job (examples/nexmark/)
 * and the public Nexmark SQL of the same query, over the same generated events, commit the same
 * rows, exactly (no numeric tolerance). The TypeScript job runs at parallelism 1, the SQL at 4.
 *
 * Rows are compared by position: the public q7 inserts `B.price, B.bidder` into the columns
 * `bidder, price` (Flink matches by position), and the TypeScript job names its fields by what
 * they hold. q12 windows by processing time: both read the runtime's clock (a manual clock here,
 * so every bid falls in the same window on both sides), which makes them comparable exactly.
 * q9, q18 and q19 (ROW_NUMBER) are not in the list until the SQL layer runs them.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../core/ports/clock.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../../core/sql/changelog.ts";
import { sqlJob } from "../../../core/sql/session.ts";
import { type NexmarkQuery, nexmarkJob } from "../../../examples/nexmark/lib.ts";
import { compareMultisets } from "../../oracle/duckdb-oracle.ts";
import { nexmarkScript } from "./script.ts";

const BOTH = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11", "q12", "q14", "q15", "q17"];
const EVENTS = 4000;

const positional = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [`c${i}`, v])));

describe("TypeScript Nexmark jobs and their SQL give identical rows", () => {
  for (const q of BOTH) {
    it(q, async () => {
      const { query } = (await import(`../../../examples/nexmark/${q}.ts`)) as { query: NexmarkQuery };
      for (const rate of [10_000, 1_000]) {
        const tsJob = nexmarkJob(`ts-${q}`, query, { events: EVENTS, rate, seed: 7 });
        const ts = foldChangelog((await runToCompletion(tsJob, { clock: new ManualClock() })).get("result") ?? []);
        const sqlOut = await runToCompletion(sqlJob(`sql-${q}`, nexmarkScript(q, EVENTS, rate)), {
          clock: new ManualClock(),
          parallelism: 4,
        });
        const sql = foldChangelog(sqlOut.get(`nexmark_${q}`) ?? []);
        expect(ts.length, `${q} at ${rate}/s`).toBeGreaterThan(0);
        expect(compareMultisets(positional(sql), positional(ts), { relTol: 0 }), `${q} at ${rate}/s`).toEqual([]);
      }
    });
  }
});
