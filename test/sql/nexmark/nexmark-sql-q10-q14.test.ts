/**
 * The public Nexmark q10–q14 through riffle's SQL layer against DuckDB, as nexmark-sql.test.ts does
 * for the others: at parallelism 1 and 4, at two rates, and under injected faults.
 *
 * - q10 writes bids into a partitioned `filesystem` sink (its `${NEXMARK_DIR}`/`${SUBMIT_TIME}` path
 *   filled with a temporary directory); the committed files, read back with their `dt=…/hm=…`
 *   partition directories, equal DuckDB's rows. Under faults, files that a crash left staged are
 *   never visible and none is committed twice.
 * - q11 (legacy SESSION windows) and q14 (CASE, HOUR, the CountChar UDF) equal the oracle SQL.
 * - q12 windows bids by processing time, which no batch can reproduce: which window a bid lands in
 *   depends on when it is processed. What a batch can say is compared: summed over all of a
 *   bidder's windows, the counts equal the bidder's bids, and every window is 10 s long and aligned.
 * - q13 joins each bid with a side input file (written here; the public query's `${FLINK_HOME}` path
 *   filled in) by `FOR SYSTEM_TIME AS OF` PROCTIME(): the file never changes, so the join is the
 *   same whatever the processing time, and equals DuckDB's join with the same CSV file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamExecutionEnvironment } from "../../../core/api/environment.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../../core/sql/changelog.ts";
import { readFilesystemTable } from "../../../core/sql/filesystem.ts";
import { planSql, sqlJob } from "../../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../../oracle/duckdb-oracle.ts";
import { simulate } from "../../sim/simulate.ts";
import { nexmarkOracle } from "../../support/sql-oracle-runs.ts";
import { nexmarkScript } from "./script.ts";

const EVENTS = 4000;
const QUERIES = ["q10", "q11", "q12", "q13", "q14"];
const tmp = () => mkdtempSync(join(tmpdir(), "riffle-sql-nexmark-"));

/** The side input of q13: keys 0, 3, 6, … below 10000 (two thirds of the bids find no row), values with CSV quoting. */
const sideInput = join(tmp(), "side_input.txt");
writeFileSync(sideInput, Array.from({ length: 3334 }, (_, i) => `${3 * i},"side ""${3 * i}"", value"\n`).join(""));

/** A planned run of one query: its script and where its rows end up. */
function setup(q: string, events: number, rate: number) {
  const out = tmp();
  const script = nexmarkScript(q, events, rate, 7, {
    NEXMARK_DIR: out,
    SUBMIT_TIME: "run",
    FLINK_HOME: join(sideInput, ".."),
  }).replace("/data/side_input.txt", "/side_input.txt");
  /** The committed rows: the files of q10's sink, the folded changelog of the others. */
  const rows = (output: ReadonlyMap<string, readonly unknown[]>): Record<string, unknown>[] => {
    if (q !== "q10") return foldChangelog(output.get(`nexmark_${q}`) ?? []);
    const table = planSql(script).catalog.tables.get("nexmark_q10");
    if (!table) throw new Error("q10 has no sink table");
    const names = table.physical.map((f) => f.name);
    return readFilesystemTable(table).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
  };
  return { script, rows };
}

const positional = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [`c${i}`, v])));

async function reference(oracle: Oracle, q: string): Promise<Record<string, unknown>[]> {
  if (q === "q11" || q === "q14") return oracle.run(q);
  const sql = readFileSync(join(import.meta.dirname, "duckdb", `${q}.sql`), "utf8");
  return oracle.runSql(sql.replaceAll(`\${SIDE_INPUT}`, sideInput));
}

/** Differences between committed rows and the reference ([] when they agree; see the file comment for q12). */
function diff(q: string, rows: Record<string, unknown>[], expected: Record<string, unknown>[]): string[] {
  if (q !== "q12") return compareMultisets(positional(rows), positional(expected));
  const bad = rows.filter(
    (r) => (r.endtime as number) - (r.starttime as number) !== 10_000 || (r.starttime as number) % 10_000 !== 0,
  );
  const totals = new Map<unknown, number>();
  for (const r of rows) totals.set(r.bidder, (totals.get(r.bidder) ?? 0) + (r.bid_count as number));
  const summed = [...totals].map(([bidder, bids]) => ({ bidder, bids }));
  return [...bad.map((r) => `window not 10 s aligned: ${JSON.stringify(r)}`), ...compareMultisets(summed, expected)];
}

for (const rate of [10_000, 1_000]) {
  describe(`public Nexmark SQL q10-q14 vs DuckDB, ${EVENTS} events at ${rate} events/s`, () => {
    let oracle: Oracle;
    beforeAll(async () => {
      oracle = await nexmarkOracle(EVENTS, rate);
    });
    afterAll(() => oracle?.close());

    for (const q of QUERIES) {
      it(`${q}.sql at parallelism 1 and 4`, async () => {
        const expected = await reference(oracle, q);
        expect(expected.length).toBeGreaterThan(0);
        for (const parallelism of [1, 4]) {
          const { script, rows } = setup(q, EVENTS, rate);
          const out = await runToCompletion(sqlJob(`sql-${q}`, script), { clock: new ManualClock(), parallelism });
          expect(diff(q, rows(out), expected), `${q} at parallelism ${parallelism}`).toEqual([]);
        }
      });
    }
  });
}

/**
 * Small batches and a checkpoint every 5 ms of simulated time, so that the faults land between many
 * epochs (with 2000 events and the defaults a run has two checkpoints and hardly a fault: a
 * filesystem sink that writes files at once, without staging, passes that, and fails this).
 */
const faulty = (env: StreamExecutionEnvironment) => {
  env.configure({ sourceBatchSize: 37, maxRecordsPerEnvelope: 16 });
  env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
};

describe("public Nexmark SQL q10-q14 vs DuckDB under injected faults", () => {
  const events = 2000;
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(events);
  });
  afterAll(() => oracle?.close());

  for (const q of QUERIES) {
    it(`${q}.sql, seeds 1-3`, async () => {
      const expected = await reference(oracle, q);
      let crashes = 0;
      for (const seed of [1, 2, 3]) {
        const { script, rows } = setup(q, events, 10_000);
        const job = sqlJob(`sql-${q}`, script, faulty);
        const r = await simulate({ name: `sql-${q}`, job, check: (out) => diff(q, rows(out), expected) }, seed);
        expect(r.diffs, `${q} seed ${seed}`).toEqual([]);
        expect(r.checkpoints, `${q} seed ${seed}: checkpoints`).toBeGreaterThan(5);
        crashes += r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers;
      }
      expect(crashes, `${q}: crashes injected`).toBeGreaterThan(0);
    });
  }
});
