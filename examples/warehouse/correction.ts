/**
 * The layered warehouse of layers.ts and the correction of its planted bug, in one
 * process on the embedded runtime (the three jobs share one table store):
 *
 * 1. ODS, DWD (with the bug) and DWS run; an OLAP query over DWD shows what each
 *    currency was converted at: euros at 92, not 108.
 * 2. The DWD job is stopped with a savepoint; the fixed job is restored from it with a
 *    replay of the retained ODS, overwriting every DWD row by key, while the DWS job
 *    keeps running and takes each rewritten row as a retraction and an insert.
 * 3. The same query shows the right rates, and DWS the right totals.
 *
 *   node examples/warehouse/correction.ts
 *
 * Each step waits until the layers agree: DWD holds every paid ODS order (and, after the
 * fix, converts at the right rates), and DWS's totals equal DWD's at its newest checkpoint.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type EmbeddedOptions,
  EmbeddedRuntime,
  InMemoryCheckpointStore,
  InMemoryStateStore,
  InMemoryTableStore,
  readTable,
} from "riffle";
import { dwdJob, dwsJob, odsJob, RATES } from "./layers.ts";

type Rows = Record<string, unknown>[];

/** What the run saw. */
export interface CorrectionRun {
  /** ODS at its last checkpoint: the input. */
  readonly ods: Rows;
  /** The OLAP query over DWD, before and after: the rate each currency was converted at. */
  readonly ratesBefore: Rows;
  readonly ratesAfter: Rows;
  /** DWS before and after the correction, by region. */
  readonly dwsBefore: Rows;
  readonly dwsAfter: Rows;
  /** The DWS job's newest checkpoint before and after: it ran throughout. */
  readonly dwsCheckpoints: readonly [number, number];
}

/** The OLAP query that finds the bug: the rate each currency was converted at, in US cents per 100. */
export const RATES_SQL =
  "SELECT currency, SUM(amount_usd) * 100 / SUM(amount) AS rate FROM orders_dwd GROUP BY currency";

const sorted = (rows: readonly Record<string, unknown>[]) =>
  [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function until(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs the warehouse, finds the bug, corrects it; `log` gets what a reader would print.
 * `options.beforeBatch` runs before every batch of every job (a test crashes runners there).
 */
export async function runCorrection(
  log: (line: string) => void = () => {},
  options: Pick<EmbeddedOptions, "beforeBatch"> = {},
): Promise<CorrectionRun> {
  const store = new InMemoryTableStore();
  const shared = { tables: store, ...options };
  const query = async (job: string, sql: string): Promise<Rows> => {
    const a = await readTable({ job, store }, { kind: "query", sql }).catch(() => undefined);
    return a?.kind === "query" ? sorted(a.rows) : [];
  };
  const same = async (a: Promise<Rows>, b: Promise<Rows>) => JSON.stringify(await a) === JSON.stringify(await b);
  const dwsCaughtUp = () =>
    same(
      query("wh-dws", "SELECT SUM(orders) AS orders, SUM(sales) AS sales FROM sales_dws"),
      query("wh-dwd", "SELECT COUNT(*) AS orders, SUM(amount_usd) AS sales FROM orders_dwd"),
    );
  const dwsCheckpoint = async () => (await store.sealed("wh-dws")).at(-1)?.checkpoint ?? 0;
  const dwdState = { store: new InMemoryStateStore(), checkpoints: new InMemoryCheckpointStore() };
  const stopDws = new AbortController();
  const stopBuggy = new AbortController();
  const stopFixed = new AbortController();
  const dws = new EmbeddedRuntime(dwsJob, { ...shared, signal: stopDws.signal }).run();
  const buggy = new EmbeddedRuntime(dwdJob("buggy"), {
    ...dwdState,
    ...shared,
    signal: stopBuggy.signal,
    stopWithSavepoint: "before-fix",
  }).run();
  let fixed: Promise<void> | undefined;
  try {
    await new EmbeddedRuntime(odsJob, shared).run();
    const ods = await readTable({ job: "wh-ods", store }, { kind: "snapshot", table: "orders_ods" });
    if (ods.kind !== "snapshot") throw new Error("no ODS snapshot");
    log(`ODS: ${ods.rows.length} orders at checkpoint ${ods.checkpoint}`);
    await until("DWD holds every paid order", () =>
      same(
        query("wh-dwd", "SELECT COUNT(*) AS n FROM orders_dwd"),
        query("wh-ods", "SELECT COUNT(*) AS n FROM orders_ods WHERE status = 'paid'"),
      ),
    );
    await until("DWS agrees with DWD", dwsCaughtUp);
    const ratesBefore = await query("wh-dwd", RATES_SQL);
    const dwsBefore = await query("wh-dws", "SELECT * FROM sales_dws");
    for (const r of ratesBefore) log(`converted at: ${JSON.stringify(r)}`);
    for (const r of dwsBefore) log(`DWS with the bug: ${JSON.stringify(r)}`);
    const before = await dwsCheckpoint();

    stopBuggy.abort();
    await buggy;
    log("DWD stopped with savepoint 'before-fix'; the fixed job restored from it replays ODS");
    fixed = new EmbeddedRuntime(dwdJob("fixed"), {
      ...dwdState,
      ...shared,
      signal: stopFixed.signal,
      fromSavepoint: "before-fix",
    }).run();
    const right = sorted(Object.entries(RATES).map(([currency, rate]) => ({ currency, rate })));
    await until(
      "DWD converts at the right rates",
      async () => JSON.stringify(await query("wh-dwd", RATES_SQL)) === JSON.stringify(right),
    );
    await until("DWS agrees with DWD", dwsCaughtUp);
    const ratesAfter = await query("wh-dwd", RATES_SQL);
    const dwsAfter = await query("wh-dws", "SELECT * FROM sales_dws");
    for (const r of ratesAfter) log(`converted at: ${JSON.stringify(r)}`);
    for (const r of dwsAfter) log(`DWS corrected: ${JSON.stringify(r)}`);
    return {
      ods: ods.rows,
      ratesBefore,
      ratesAfter,
      dwsBefore,
      dwsAfter,
      dwsCheckpoints: [before, await dwsCheckpoint()],
    };
  } finally {
    stopBuggy.abort();
    stopFixed.abort();
    stopDws.abort();
    await Promise.allSettled([buggy, fixed, dws]);
  }
}

const main = process.argv[1];
if (main !== undefined && realpathSync(main) === fileURLToPath(import.meta.url))
  await runCorrection((line) => console.log(line));
