/**
 * Window TVFs (TUMBLE, HOP, CUMULATE) with window aggregation, and a group aggregate over a
 * window aggregate, over the public Nexmark DDL and views: riffle's committed table equals
 * DuckDB's over the same events, at parallelism 1 and 3.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { changelogMode } from "../../core/sql/logical.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { expectSavepointOverSlowNexmark, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkScript } from "./nexmark/script.ts";

const EVENTS = 3000;
const SINK =
  "CREATE TABLE out (auction BIGINT, num BIGINT, maxp BIGINT, ws TIMESTAMP(3), we TIMESTAMP(3)) WITH ('connector' = 'print')";

const WINDOWED = (tvf: string) =>
  `INSERT INTO out SELECT auction, COUNT(*), MAX(price), window_start, window_end FROM TABLE(${tvf}) GROUP BY auction, window_start, window_end`;

const CASES: { name: string; sql: string; duck: string }[] = [
  {
    name: "TUMBLE 10 s",
    sql: WINDOWED("TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND)"),
    duck: `SELECT auction, COUNT(*) AS num, MAX(price) AS maxp, dateTime // 10000 * 10000 AS ws, dateTime // 10000 * 10000 + 10000 AS we
           FROM bid GROUP BY ALL`,
  },
  {
    name: "HOP 2 s / 10 s",
    sql: WINDOWED("HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND)"),
    duck: `SELECT auction, COUNT(*) AS num, MAX(price) AS maxp, (dateTime // 2000 - i) * 2000 AS ws, (dateTime // 2000 - i) * 2000 + 10000 AS we
           FROM bid, range(5) AS r(i) GROUP BY ALL`,
  },
  {
    name: "CUMULATE 2 s / 10 s",
    sql: WINDOWED("CUMULATE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND)"),
    duck: `SELECT auction, COUNT(*) AS num, MAX(price) AS maxp, dateTime // 10000 * 10000 AS ws, dateTime // 10000 * 10000 + k * 2000 AS we
           FROM bid, range(1, 6) AS r(k) WHERE dateTime // 10000 * 10000 + k * 2000 > dateTime GROUP BY ALL`,
  },
  {
    name: "HOP 2 s / 10 s with SUM and MIN (panes merged per window)",
    sql: `INSERT INTO out SELECT auction, SUM(price), MIN(price), window_start, window_end
          FROM TABLE(HOP(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
          GROUP BY auction, window_start, window_end`,
    duck: `SELECT auction, SUM(price) AS num, MIN(price) AS maxp, (dateTime // 2000 - i) * 2000 AS ws, (dateTime // 2000 - i) * 2000 + 10000 AS we
           FROM bid, range(5) AS r(i) GROUP BY ALL`,
  },
  {
    name: "HOP 2 s / 10 s with COUNT(DISTINCT …), filtered and not (one shared view per column)",
    sql: `INSERT INTO out SELECT auction, COUNT(DISTINCT bidder), COUNT(DISTINCT bidder) FILTER (WHERE price > 1000000),
            window_start, window_end
          FROM TABLE(HOP(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
          GROUP BY auction, window_start, window_end`,
    duck: `SELECT auction, COUNT(DISTINCT bidder) AS num, COUNT(DISTINCT bidder) FILTER (WHERE price > 1000000) AS maxp,
             (dateTime // 2000 - i) * 2000 AS ws, (dateTime // 2000 - i) * 2000 + 10000 AS we
           FROM bid, range(5) AS r(i) GROUP BY ALL`,
  },
  {
    name: "a group aggregate over HOP counts (q5's MaxBids)",
    sql: `INSERT INTO out SELECT MAX(num), COUNT(*), SUM(num), starttime, endtime FROM (
            SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
            FROM TABLE(HOP(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
            GROUP BY auction, window_start, window_end) AS CountBids
          GROUP BY starttime, endtime`,
    duck: `SELECT MAX(num) AS auction, COUNT(*) AS num, SUM(num) AS maxp, ws, we FROM (
             SELECT auction, COUNT(*) AS num, (dateTime // 2000 - i) * 2000 AS ws, (dateTime // 2000 - i) * 2000 + 10000 AS we
             FROM bid, range(5) AS r(i) GROUP BY ALL) GROUP BY ws, we`,
  },
];

describe("window TVFs vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS);
  });
  afterAll(() => oracle?.close());

  for (const c of CASES) {
    it(`${c.name} at parallelism 1 and 3`, async () => {
      const script = `${nexmarkScript("q0", EVENTS, 10_000).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "")}${SINK};\n${c.sql}`;
      const expected = await oracle.runSql(c.duck);
      expect(expected.length).toBeGreaterThan(0);
      for (const parallelism of [1, 3]) {
        const out = await runToCompletion(sqlJob("windows", script), { clock: new ManualClock(), parallelism });
        const actual = foldChangelog(out.get("out") ?? []);
        expect(compareMultisets(actual, expected), `${c.name} at parallelism ${parallelism}`).toEqual([]);
      }
    });
  }

  // Stopped with a savepoint in the middle and restored: each window's row once. At 100 events/s the
  // events span 30 s, so windows close before the stop and stay open across it; the keys' timers are
  // implied by their state and set again by the restore.
  const SAVEPOINTED = [
    // The unfused window aggregate (DISTINCT): its accumulators imply the window's end.
    { name: "COUNT(DISTINCT …) per window", job: "windows-savepoint", of: "COUNT(DISTINCT" },
    // The fused window aggregate: its panes and the windows done imply the next window end.
    { name: "a HOP aggregate fused with its panes", job: "windows-panes-savepoint", of: "panes merged per window" },
  ];
  for (const s of SAVEPOINTED) {
    it(`${s.name}, stopped with a savepoint in the middle and restored: each window's row once`, async () => {
      const c = CASES.find((x) => x.name.includes(s.of)) as (typeof CASES)[number];
      await expectSavepointOverSlowNexmark(s.job, { events: EVENTS, rate: 100 }, `${SINK};\n${c.sql}`, c.duck, false);
    });
  }

  it("a processing-time TUMBLE aggregate whose clock passes window ends mid-run counts every bid once", async () => {
    // The clock moves 500 ms a batch, and its timers fire after a slice's records: a window's timer
    // may come after rows of a later window moved the key's done windows past it. Each bid is in one
    // window; summed over the windows, the counts are the bids (q12's check, as no batch can say which).
    const script = `${nexmarkScript("q12", 10_000, 1000, 7, { SUBMIT_TIME: "run" })}`;
    const out = await runToCompletion(
      sqlJob("proctime-windows", script, (env) => env.configure({ sourceBatchSize: 200 })),
      { clock: new ManualClock(), batchTimeMs: 500 },
    );
    const rows = foldChangelog(out.get("nexmark_q12") ?? []);
    expect(rows.length).toBeGreaterThan(100); // many windows: the clock did pass their ends mid-run
    const cfg = nexmarkConfig({ events: 10_000, seed: 7, rate: 1000 });
    const bids = Array.from({ length: 10_000 }, (_, i) => nexmarkEvent(i, cfg)).filter((e) => e.type === "bid").length;
    expect(rows.reduce((a, r) => a + Number(Object.values(r)[1]), 0)).toBe(bids);
  });

  it("plans a window aggregate as insert-only, and an aggregate over it as retracting", () => {
    const ddl = nexmarkScript("q0", 10, 10_000).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "");
    const nestedCase = CASES.find((c) => c.name.startsWith("a group aggregate over HOP counts"));
    const [windowed, nested] = [CASES[0], nestedCase].map((c) => planSql(`${ddl}${SINK};\n${c?.sql}`).inserts[0]);
    expect(windowed && changelogMode(windowed.optimized)).toEqual(["+I"]);
    expect(nested && changelogMode(nested.optimized)).toEqual(["+I", "-U", "+U", "-D"]);
  });
});
