/**
 * Nexmark SQL on one core: per public query (test/sql/nexmark/qN.sql with ddl_gen.sql and
 * ddl_views.sql, as `riffle sql` runs it), events/s of the SQL job on the embedded runtime at
 * parallelism 1 including generation, beside the hand-written TypeScript job of
 * examples/nexmark/ over the same events and Flink's published per-core figure. A query the SQL
 * layer refuses is listed with its error. Each run is a process of its own (bench/sql-query.ts:
 * a small warm-up run, then the timed one), as a job runs in production: two jobs in one process
 * share the runtime's compiled code and its type feedback, which slows each by the other's
 * shapes and drew the two kinds' figures together. The SQL and TypeScript runs alternate `reps`
 * times (which goes first alternating too), so that the load on a shared machine hits both; the
 * figures are the medians of the runs, and SQL / TypeScript the median of each rep's pair.
 * `separate: false` (the quick run) times both kinds in this process instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Job } from "../core/api/environment.ts";
import { ManualClock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { SqlError } from "../core/sql/errors.ts";
import { sqlJob } from "../core/sql/session.ts";
import { type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";
import { nexmarkScript } from "../test/sql/nexmark/script.ts";
import { FLINK_PER_CORE } from "./nexmark.ts";

/** One query's figures (rates in events/s). */
export interface SqlFigure {
  readonly query: string;
  readonly events: number;
  /** Undefined when the SQL layer refuses the query (see `refused`). */
  readonly sqlEventsPerSec: number | undefined;
  readonly tsEventsPerSec: number | undefined;
  /**
   * SQL / TypeScript (goal: ≥ 0.8): the median of each rep's ratio of the two runs side by side
   * (they alternate), so that the machine's drift over the reps cancels in each pair.
   */
  readonly sqlToTs: number | undefined;
  /** Each rep's SQL / TypeScript, wall clock then CPU time. */
  readonly sqlToTsRuns?: readonly (readonly [number, number])[];
  /** Events per second of the process's CPU time (user + system, all threads: GC included), medians. */
  readonly sqlEventsPerCpuSec: number | undefined;
  readonly tsEventsPerCpuSec: number | undefined;
  /** SQL / TypeScript in CPU time (the median of the reps' ratios, as `sqlToTs`). */
  readonly sqlToTsCpu: number | undefined;
  readonly flinkPerCore: number | undefined;
  /** SQL / Flink's per-core figure (goal: ≥ 2). */
  readonly multipleOfFlink: number | undefined;
  /** Records the SQL job committed (changelog records for an updating query). */
  readonly sqlRows: number | undefined;
  readonly tsRows: number | undefined;
  /** Why the SQL layer refused the query. */
  readonly refused?: string;
  /** Runs of each job; the rates are their medians. */
  readonly reps: number;
  /** The 1-minute load average before and after the query's runs. */
  readonly load: readonly [number, number];
}

const ALL_QUERIES = Array.from({ length: 24 }, (_, i) => `q${i}`);

/** The public SQL of query `q` over `events` events, as the bench runs it (q13's side input under `dir`, see {@link writeSideInput}). */
export function sqlBenchJob(q: string, events: number, dir: string): Job {
  const vars = { NEXMARK_DIR: join(dir, q), SUBMIT_TIME: "run", FLINK_HOME: dir };
  return sqlJob(
    `bench-sql-${q}`,
    nexmarkScript(q, events, 10_000, 7, vars).replace("/data/side_input.txt", "/side_input.txt"),
  );
}

/** Writes q13's side input into `dir`: a key for every auction mod 10000. */
export function writeSideInput(dir: string): void {
  writeFileSync(join(dir, "side_input.txt"), Array.from({ length: 10_000 }, (_, k) => `${k},side-${k}\n`).join(""));
}

/** The TypeScript job of query `q` (examples/nexmark/), if it has one. */
export async function tsBenchJob(q: string): Promise<((events: number) => Job) | undefined> {
  const file = join(import.meta.dirname, "../examples/nexmark", `${q}.ts`);
  if (!existsSync(file)) return undefined;
  const { query } = (await import(file)) as { query: NexmarkQuery };
  return (n) => nexmarkJob(`bench-ts-${q}`, query, { events: n, seed: 7 });
}

/** The queries to measure: all, or those `RIFFLE_BENCH_SQL_QUERIES` names (comma-separated, e.g. `q5,q15`). */
function queries(): readonly string[] {
  const named = process.env.RIFFLE_BENCH_SQL_QUERIES;
  if (named === undefined || named.trim() === "") return ALL_QUERIES;
  const wanted = named.split(",").map((q) => q.trim());
  const unknown = wanted.filter((q) => !ALL_QUERIES.includes(q));
  if (unknown.length > 0)
    throw new Error(`RIFFLE_BENCH_SQL_QUERIES names unknown queries: ${unknown.join(", ")} (q0–q23)`);
  return wanted;
}

/** Runs `job` at parallelism 1 on a manual clock: events/s (wall clock and CPU time) and committed records. */
export async function time(job: Job, events: number): Promise<Timed> {
  let rows = 0;
  const rt = new EmbeddedRuntime(job, {
    parallelism: 1,
    clock: new ManualClock(),
    onOutput: (_s, v) => {
      rows += v.length;
    },
  });
  // A clean heap: no run pays for the garbage of the run before it (`node --expose-gc`).
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await rt.run();
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return {
    eventsPerSec: Math.round(events / ((performance.now() - t0) / 1000)),
    eventsPerCpuSec: Math.round(events / cpuSec),
    rows,
  };
}

/** The median of `xs` (of an even count, the mean of the middle two). */
function middle(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The median of rates `xs`, rounded. */
const median = (xs: readonly number[]): number => Math.round(middle(xs));

/** What {@link time} measured. */
export type Timed = { eventsPerSec: number; eventsPerCpuSec: number; rows: number };

/** One timed run of a job of {@link interleaved}: in this process, or (`kind`) in a process of its own. */
type Runner = { readonly job: (events: number) => Job; readonly kind: "sql" | "ts" };

/** Runs `kind` of query `q` over `events` in a process of its own (bench/sql-query.ts), from a collected heap. */
function timeApart(q: string, kind: "sql" | "ts", events: number, dir: string): Timed {
  const child = join(import.meta.dirname, "sql-query.ts");
  let out: string;
  try {
    out = execFileSync(process.execPath, ["--expose-gc", child, q, kind, String(events), dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`the ${kind} run of ${q} (bench/sql-query.ts) failed: ${stderr.split("\n").at(-1) ?? ""}`, {
      cause: e,
    });
  }
  const { eventsPerSec, eventsPerCpuSec, rows } = JSON.parse(out.trim().split("\n").at(-1) as string) as Timed;
  return { eventsPerSec, eventsPerCpuSec, rows };
}

/**
 * Runs each job of `jobs` `reps` times, alternating (which goes first too): in processes of their
 * own (`apart`: query and directory), or in this one after a small warm-up run of each. Median
 * events/s and rows per job, and each job's runs in rep order.
 */
async function interleaved(
  jobs: readonly Runner[],
  events: number,
  reps: number,
  apart?: { readonly q: string; readonly dir: string },
): Promise<{ medians: Timed[]; runs: Timed[][] }> {
  const warm = Math.max(1000, Math.round(events / 20));
  if (!apart) for (const { job } of jobs) await time(job(warm), warm);
  const runs: Timed[][] = jobs.map(() => []);
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? jobs.map((_, i) => i) : jobs.map((_, i) => jobs.length - 1 - i);
    for (const i of order) {
      const { job, kind } = jobs[i] as Runner;
      runs[i]?.push(apart ? timeApart(apart.q, kind, events, apart.dir) : await time(job(events), events));
    }
  }
  const medians = runs.map((rs) => ({
    eventsPerSec: median(rs.map((x) => x.eventsPerSec)),
    eventsPerCpuSec: median(rs.map((x) => x.eventsPerCpuSec)),
    rows: rs[0]?.rows ?? 0,
  }));
  return { medians, runs };
}

/** Each rep's ratio of run `a` to run `b` beside it (wall clock, CPU time), to three places. */
function pairedRatios(a: readonly Timed[], b: readonly Timed[]): [number, number][] {
  const r = (x: number, y: number) => Number((x / y).toFixed(3));
  return a.map((x, i) => {
    const y = b[i] as Timed;
    return [r(x.eventsPerSec, y.eventsPerSec), r(x.eventsPerCpuSec, y.eventsPerCpuSec)];
  });
}

/** The median of ratios `xs`, to two places. */
const medianRatio = (xs: readonly number[]): number => Number(middle(xs).toFixed(2));

/**
 * Measures every public Nexmark SQL query (q0–q23) and its TypeScript job where there is one,
 * each run in a process of its own unless `separate` is false.
 */
export async function measureNexmarkSql(events: number, reps = 3, separate = true): Promise<SqlFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "riffle-bench-sql-"));
  writeSideInput(dir);
  const out: SqlFigure[] = [];
  try {
    for (const q of queries()) {
      const flink = FLINK_PER_CORE[q];
      const sqlOf = (n: number) => sqlBenchJob(q, n, dir);
      const load0 = loadavg()[0] as number;
      let refused: string | undefined;
      try {
        sqlOf(events);
      } catch (e) {
        if (!(e instanceof SqlError)) throw e;
        refused = e.message;
      }
      const tsOf = await tsBenchJob(q);
      const jobs: Runner[] = refused === undefined ? [{ job: sqlOf, kind: "sql" }] : [];
      if (tsOf) jobs.push({ job: tsOf, kind: "ts" });
      const { medians: timed, runs } = await interleaved(jobs, events, reps, separate ? { q, dir } : undefined);
      const sql = refused === undefined ? timed[0] : undefined;
      const ts = tsOf ? timed[timed.length - 1] : undefined;
      const ratio = (a: number | undefined, b: number | undefined, d: number) =>
        a === undefined || b === undefined ? undefined : Number((a / b).toFixed(d));
      const pairs = sql && ts ? pairedRatios(runs[0] as Timed[], runs[runs.length - 1] as Timed[]) : undefined;
      out.push({
        query: q,
        events,
        sqlEventsPerSec: sql?.eventsPerSec,
        tsEventsPerSec: ts?.eventsPerSec,
        sqlToTs: pairs && medianRatio(pairs.map((p) => p[0])),
        ...(pairs ? { sqlToTsRuns: pairs } : {}),
        sqlEventsPerCpuSec: sql?.eventsPerCpuSec,
        tsEventsPerCpuSec: ts?.eventsPerCpuSec,
        sqlToTsCpu: pairs && medianRatio(pairs.map((p) => p[1])),
        flinkPerCore: flink,
        multipleOfFlink: ratio(sql?.eventsPerSec, flink, 2),
        sqlRows: sql?.rows,
        tsRows: ts?.rows,
        ...(refused === undefined ? {} : { refused }),
        reps,
        load: [Number(load0.toFixed(1)), Number((loadavg()[0] as number).toFixed(1))],
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
