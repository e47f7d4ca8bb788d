/**
 * A remote function that answers after a fixed latency (as a Lambda function does):
 * `node bench/remote-latency.ts MS [RECORDS] [BATCH] [CONCURRENCY] [TREE]`. A stateless
 * remote map over generated words, embedded at parallelism 1, its function an invoker
 * object in this process that waits MS ms before it answers; prints one JSON line with
 * records/s and the bound that many requests in flight allow
 * (CONCURRENCY × BATCH / MS). `TREE`, a checkout of riffle (e.g. a `git archive` of a
 * base commit with a `node_modules` link), is imported instead of this one: run two
 * in turn for a before/after of how full riffle keeps the requests in flight.
 */

import { join } from "node:path";
import type { Job } from "../core/api/environment.ts";
import type { RemoteInvoker } from "../core/remote/invoker.ts";
import type { WireRequest } from "../core/remote/wire.ts";

const [ms = "5", n = "200000", b = "100", c = "16", tree = join(import.meta.dirname, "..")] = process.argv.slice(2);
const { defineJob } = (await import(
  join(tree, "core/api/environment.ts")
)) as typeof import("../core/api/environment.ts");
const { ManualClock } = (await import(join(tree, "core/ports/clock.ts"))) as typeof import("../core/ports/clock.ts");
const { RemoteDataStream } = (await import(
  join(tree, "core/remote/remote-stream.ts")
)) as typeof import("../core/remote/remote-stream.ts");
const { EmbeddedRuntime } = (await import(
  join(tree, "core/runtime/embedded.ts")
)) as typeof import("../core/runtime/embedded.ts");

const slow: RemoteInvoker = {
  target: "slow",
  invoke: async (body) => {
    const r = JSON.parse(body) as WireRequest;
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    const groups = r.groups.map((g) => ({ out: g.values.map((v) => String(v).toUpperCase()) }));
    return JSON.stringify({ v: r.v, id: r.id, groups });
  },
};

const job = (records: number): Job =>
  defineJob("bench-remote-latency", (env) => {
    const words = env.fromGenerator((i) => `word${i % 1000}`, { count: records });
    const spec = { name: "shout", target: slow, batchSize: Number(b), concurrency: Number(c) };
    RemoteDataStream.map<string, string>(words, spec).sinkTo("out");
  });

/** Records/s of one run over `records` words. */
async function run(records: number): Promise<number> {
  let out = 0;
  const rt = new EmbeddedRuntime(job(records), {
    parallelism: 1,
    clock: new ManualClock(),
    onOutput: (_s, v) => {
      out += v.length;
    },
  });
  const t0 = performance.now();
  await rt.run();
  if (out !== records) throw new Error(`bench remote-latency: ${out} outputs for ${records} records`);
  return Math.round(records / ((performance.now() - t0) / 1000));
}

await run(Math.min(Number(n), 20_000)); // warm-up
const recordsPerSecond = await run(Number(n));
const bound = Math.round((Number(c) * Number(b) * 1000) / Number(ms));
console.log(
  JSON.stringify({
    tree,
    latencyMs: Number(ms),
    batchSize: Number(b),
    concurrency: Number(c),
    recordsPerSecond,
    bound,
  }),
);
