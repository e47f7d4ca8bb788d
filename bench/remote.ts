/**
 * Remote functions (`npm run bench -- remote`): records/s of a stateless function
 * that upper-cases a word, embedded at parallelism 1: the TypeScript `map` in the
 * job (chained, and after a task boundary); the Python SDK's server
 * (examples/remote/functions.py: `shout` per record, `shout_all` vectorized with
 * `batch=True`); and the same function in TypeScript behind the same wire format in
 * its own process, which shows what the transport costs apart from Python. Each
 * remote one at batch sizes 1, 10, 100 and 1000 (concurrency 4).
 */

import { type ChildProcess, spawn } from "node:child_process";
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
  /** recordsPerSecond over the chained TypeScript map's (`typescript-local`). */
  readonly ofLocal: number;
  /** recordsPerSecond over the TypeScript map's after the same task boundary (`typescript-local-hop`). */
  readonly ofHop: number;
}

/** The part's figures. */
export interface RemoteFigure {
  readonly note: string;
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

async function run(j: Job, records: number): Promise<{ seconds: number; recordsPerSecond: number }> {
  let out = 0;
  const rt = new EmbeddedRuntime(j, {
    parallelism: 1,
    clock: new ManualClock(),
    onOutput: (_s, v) => {
      out += v.length;
    },
  });
  const t0 = performance.now();
  await rt.run();
  const seconds = (performance.now() - t0) / 1000;
  if (out !== records) throw new Error(`bench remote: ${out} outputs for ${records} records`);
  return { seconds: Number(seconds.toFixed(3)), recordsPerSecond: Math.round(records / seconds) };
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

/** Records for a batch size: fewer at small batches (each request is a round trip), at least 2,000 requests' worth. */
const recordsFor = (max: number, batchSize: number) => Math.min(max, Math.max(2_000, batchSize * 2_000));

/** Runs the part over at most `records` records per run. */
export async function measureRemote(records: number, log: (line: string) => void): Promise<RemoteFigure> {
  await run(job("local", Math.min(records, 50_000)), Math.min(records, 50_000)); // warm-up
  const local = await run(job("local", records), records);
  const hop = await run(job("local-hop", records), records);
  const ratios = (rps: number) => ({
    ofLocal: Number((rps / local.recordsPerSecond).toFixed(3)),
    ofHop: Number((rps / hop.recordsPerSecond).toFixed(3)),
  });
  const runs: RemoteRun[] = [
    { fn: "typescript-local", batchSize: null, records, ...local, ...ratios(local.recordsPerSecond) },
    { fn: "typescript-local-hop", batchSize: null, records, ...hop, ...ratios(hop.recordsPerSecond) },
  ];
  const remote = async (fn: RemoteRun["fn"], target: string | RemoteInvoker, name: string) => {
    for (const batchSize of REMOTE_BATCH_SIZES) {
      const n = recordsFor(records, batchSize);
      const r = await run(job({ remote: target, name, batchSize }, n), n);
      const x = ratios(r.recordsPerSecond);
      runs.push({ fn, batchSize, records: n, ...r, ...x });
      log(
        `  ${fn} batch ${batchSize}: ${r.recordsPerSecond} records/s (${x.ofLocal}× the map, ${x.ofHop}× after a hop)`,
      );
    }
  };
  await remote("in-process-wire", inProcess, "shout");
  const python = await server("python3", ["-m", "riffle_sdk", "functions", "0"], {
    PYTHONPATH: `${join(ROOT, "sdk/python")}:${join(ROOT, "examples/remote")}`,
  });
  const ts = await server(process.execPath, [join(ROOT, "bench/remote-ts-server.ts")], {});
  try {
    await remote("python-http", python.url, "shout");
    await remote("python-http-batch", python.url, "shout_all");
    await remote("typescript-http", ts.url, "shout");
  } finally {
    for (const s of [python, ts]) s.child.kill("SIGTERM");
  }
  return {
    note: "embedded, parallelism 1, records/s of generator → upper-case → sink; typescript-local = .map in the job (chained into the source task), typescript-local-hop = the same after rebalance() (the task boundary a remote function has), in-process-wire = RemoteDataStream.map with the function answered in this process through the JSON wire format (no HTTP), python-http = sdk/python's server (ThreadingHTTPServer, keep-alive, TCP_NODELAY) on 127.0.0.1 calling shout per record, python-http-batch = the same server calling shout_all (batch=True) once per request, typescript-http = the same function in a Node process behind the same wire format; wire version 2 (columnar); a slice's records cut into requests of batchSize, concurrency 4 in flight; ofHop = over typescript-local-hop",
    runs,
  };
}
