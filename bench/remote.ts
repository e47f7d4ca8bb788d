/**
 * Remote functions (`npm run bench -- remote`): records/s of a stateless function
 * that upper-cases a word, embedded at parallelism 1: the TypeScript `map` in the
 * job (chained, and after a task boundary); the Python SDK's server
 * (examples/remote/functions.py: `shout` per record, `shout_all` vectorized with
 * `batch=True`); and the same function in TypeScript behind the same wire format in
 * its own process, which shows what the transport costs apart from Python. Each
 * remote one at batch sizes 1, 10, 100 and 1000 (default concurrency: 32 requests in
 * flight to the HTTP targets, 4 to the in-process invoker).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { defineJob, type Job } from "../core/api/environment.ts";
import { ManualClock } from "../core/ports/clock.ts";
import type { RemoteInvoker } from "../core/remote/invoker.ts";
import { RemoteDataStream } from "../core/remote/remote-stream.ts";
import { WIRE_VERSION, type WireRequest } from "../core/remote/wire.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";

const ROOT = join(import.meta.dirname, "..");
export const REMOTE_BATCH_SIZES = [1, 10, 100, 1000] as const;

/** One run. */
export interface RemoteRun {
  readonly fn:
    | "typescript-local"
    | "typescript-local-hop"
    | "in-process-wire"
    | "python-http"
    | "python-http-batch"
    | "typescript-http";
  readonly batchSize: number | null;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** riffle's CPU time (user + system, µs) per record: the function's own process is not counted. */
  readonly cpuUsPerRecord: number;
  /** recordsPerSecond over the chained TypeScript map's (`typescript-local`). */
  readonly ofLocal: number;
  /** recordsPerSecond over the TypeScript map's after the same task boundary (`typescript-local-hop`). */
  readonly ofHop: number;
  /** Each rep's ratio to the hop run beside it (ofHop is their median). */
  readonly ofHopRuns: readonly number[];
}

/** The part's figures. */
export interface RemoteFigure {
  readonly note: string;
  /** Runs of each cell. */
  readonly reps: number;
  /** 1-minute load average before and after. */
  readonly load: readonly number[];
  readonly runs: RemoteRun[];
}

const word = (i: number) => `word${i % 1000}`;

/** The function in TypeScript behind the wire format, answered in this process (no HTTP). */
const inProcess: RemoteInvoker = {
  target: "in-process",
  invoke: async (body) => {
    const r = JSON.parse(body) as WireRequest;
    const groups = r.groups.map((g) => ({ out: g.values.map((v) => String(v).toUpperCase()) }));
    return JSON.stringify({ v: WIRE_VERSION, id: r.id, groups });
  },
};

type Shape =
  | { readonly remote: string | RemoteInvoker; readonly name: string; readonly batchSize: number }
  | "local"
  | "local-hop";

function job(shape: Shape, records: number): Job {
  return defineJob("bench-remote", (env) => {
    const words = env.fromGenerator(word, { count: records });
    const upper = (w: string) => w.toUpperCase();
    const out =
      shape === "local"
        ? words.map(upper)
        : shape === "local-hop"
          ? words.rebalance().map(upper) // the task boundary a remote function has
          : RemoteDataStream.map<string, string>(words, {
              name: shape.name,
              target: shape.remote,
              batchSize: shape.batchSize,
            });
    out.sinkTo("out");
  });
}

type Timed = { seconds: number; recordsPerSecond: number; cpuUsPerRecord: number };

/** One run of `j`: wall-clock records/s, and this process's CPU time (user + system) per record. */
async function run(j: Job, records: number): Promise<Timed> {
  let out = 0;
  const rt = new EmbeddedRuntime(j, {
    parallelism: 1,
    clock: new ManualClock(),
    onOutput: (_s, v) => {
      out += v.length;
    },
  });
  // A clean heap: no run pays for the garbage of the run before it (`node --expose-gc`, as `npm run bench` runs).
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await rt.run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (out !== records) throw new Error(`bench remote: ${out} outputs for ${records} records`);
  return {
    seconds,
    recordsPerSecond: Math.round(records / seconds),
    cpuUsPerRecord: (cpu.user + cpu.system) / records,
  };
}

/** Starts a function server (`command args`), resolving with its URL and process. */
async function server(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}): ${err}`)));
  });
  return { url, child };
}

/**
 * Records for a batch size: fewer at small batches (each request is a round trip), at least
 * 10,000 requests' worth (batch 100: 1M records, as long a run as the anchors').
 */
const recordsFor = (max: number, batchSize: number) => Math.min(max, Math.max(2_000, batchSize * 10_000));

/** The median of `xs`. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const round3 = (x: number) => Number(x.toFixed(3));

/** One cell of the table: a function at a batch size (anchors: no batch size). */
interface Cell {
  readonly fn: RemoteRun["fn"];
  readonly batchSize: number | null;
  readonly records: number;
  /** The cell's job over `n` records. */
  readonly job: (n: number) => Job;
}

/** Each rep's run of a cell with the two anchors' runs beside it. */
type Triple = { readonly cell: Timed; readonly local: Timed; readonly hop: Timed };

/**
 * Runs every cell `reps` times, each run beside a run of each anchor (in turn first
 * and last, and the cells forward then backward), so that the load of a shared
 * machine hits a cell and its anchors alike; a cell's figures are medians, its
 * ratios the medians of the ratios within each triple.
 */
async function measureCells(cells: readonly Cell[], records: number, reps: number, log: (line: string) => void) {
  const triples: Triple[][] = cells.map(() => []);
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? cells.map((_, i) => i) : cells.map((_, i) => cells.length - 1 - i);
    for (const i of order) {
      const c = cells[i] as Cell;
      const anchors = async () => ({
        local: await run(job("local", records), records),
        hop: await run(job("local-hop", records), records),
      });
      const first = (r + i) % 2 === 0;
      const a = first ? await anchors() : undefined;
      const cell = await run(c.job(c.records), c.records);
      const t = { cell, ...(a ?? (await anchors())) };
      (triples[i] as Triple[]).push(t);
      const x = t.cell.recordsPerSecond / t.hop.recordsPerSecond;
      log(`  ${c.fn} batch ${c.batchSize ?? "—"}: ${t.cell.recordsPerSecond} records/s (${round3(x)}× after a hop)`);
    }
  }
  return cells.map((c, i): RemoteRun => {
    const ts = triples[i] as Triple[];
    const cell = ts.map((t) => t.cell);
    const ofHopRuns = ts.map((t) => round3(t.cell.recordsPerSecond / t.hop.recordsPerSecond));
    return {
      fn: c.fn,
      batchSize: c.batchSize,
      records: c.records,
      seconds: round3(median(cell.map((x) => x.seconds))),
      recordsPerSecond: Math.round(median(cell.map((x) => x.recordsPerSecond))),
      cpuUsPerRecord: round3(median(cell.map((x) => x.cpuUsPerRecord))),
      ofLocal: round3(median(ts.map((t) => t.cell.recordsPerSecond / t.local.recordsPerSecond))),
      ofHop: round3(median(ofHopRuns)),
      ofHopRuns,
    };
  });
}

/**
 * Runs the part over at most `records` records per run, each cell `reps` times;
 * `only` (cells as `fn@batchSize`, e.g. `python-http@100`) keeps those remote cells alone.
 */
export async function measureRemote(
  records: number,
  log: (line: string) => void,
  reps = 3,
  only?: readonly string[],
): Promise<RemoteFigure> {
  const warm = Math.min(records, 50_000);
  for (const shape of ["local", "local-hop"] as const) await run(job(shape, warm), warm);
  const cells: Cell[] = [
    { fn: "typescript-local", batchSize: null, records, job: (n) => job("local", n) },
    { fn: "typescript-local-hop", batchSize: null, records, job: (n) => job("local-hop", n) },
  ];
  const remote = (fn: RemoteRun["fn"], target: string | RemoteInvoker, name: string) => {
    for (const batchSize of REMOTE_BATCH_SIZES) {
      if (only && !only.includes(`${fn}@${batchSize}`)) continue;
      const n = recordsFor(records, batchSize);
      cells.push({ fn, batchSize, records: n, job: (m) => job({ remote: target, name, batchSize }, m) });
    }
  };
  const python = await server("python3", ["-m", "riffle_sdk", "functions", "0"], {
    PYTHONPATH: `${join(ROOT, "sdk/python")}:${join(ROOT, "examples/remote")}`,
  });
  const ts = await server(process.execPath, [join(ROOT, "bench/remote-ts-server.ts")], {});
  const load = [loadavg()[0] as number];
  let runs: RemoteRun[];
  try {
    remote("in-process-wire", inProcess, "shout");
    remote("python-http", python.url, "shout");
    remote("python-http-batch", python.url, "shout_all");
    remote("typescript-http", ts.url, "shout");
    // Each cell once small first, as the anchors: its first measured run is not its code's first run.
    for (const c of cells.slice(2)) await run(c.job(Math.min(c.records, warm)), Math.min(c.records, warm));
    runs = await measureCells(cells, records, reps, log);
  } finally {
    for (const s of [python, ts]) s.child.kill("SIGTERM");
  }
  load.push(loadavg()[0] as number);
  return {
    note: "embedded, parallelism 1, records/s of generator → upper-case → sink; typescript-local = .map in the job (chained into the source task), typescript-local-hop = the same after rebalance() (the task boundary a remote function has), in-process-wire = RemoteDataStream.map with the function answered in this process through the JSON wire format (no HTTP), python-http = sdk/python's server (keep-alive, TCP_NODELAY) on 127.0.0.1 calling shout per record, python-http-batch = the same server calling shout_all (batch=True) once per request, typescript-http = the same function in a Node process behind the same wire format; wire version 2 (columnar); a slice's records cut into requests of batchSize, default concurrency in flight (32 to an HTTP target, pipelined on the default one connection; 4 to the in-process invoker) (riffle's runtime runs the remote task's batches across its rounds); each run from a collected heap (node --expose-gc, as npm run bench runs; until 2026-12-08 a run paid for the garbage of the run before it, and the hop run beside itself came out at 0.67–0.74×); each cell run reps times, each run beside a run of each anchor (alternating which goes first, cells forward then backward): records/s, seconds and cpuUsPerRecord (riffle's process, user + system) are medians, ofLocal/ofHop the medians of the ratios to the anchor runs beside it (ofHopRuns: each rep's); load = 1-minute load average before and after",
    reps,
    load: load.map(round3),
    runs,
  };
}
