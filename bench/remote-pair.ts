/**
 * Paired before/after of the remote path in CPU time: `node bench/remote-pair.ts
 * BATCH RECORDS REPS FUNCTION TREE@SDK...`. Each `TREE` is a checkout of riffle
 * (e.g. `git archive` of a base commit, with a `node_modules` link) imported into this
 * one process, each `SDK` the `sdk/python` directory whose server it calls (one server
 * each, `examples/remote/functions.py` of this checkout). Rep by rep (trees in turn,
 * forward then backward), each tree runs the TypeScript map after a hop and then
 * FUNCTION at BATCH over RECORDS generated words; printed per tree: the medians of
 * riffle's CPU per record (`process.cpuUsage`), the Python server's (`/proc/PID/stat`,
 * Linux, 10 ms ticks), wall time per record, and × the hop run beside it; and in CPU
 * time, the hop's CPU per record over riffle's, over the busier process's (what two
 * cores of their own would allow) and over both processes' together.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");

type Side = {
  readonly spec: string;
  readonly env: typeof import("../core/api/environment.ts");
  readonly remote: typeof import("../core/remote/remote-stream.ts");
  readonly embedded: typeof import("../core/runtime/embedded.ts");
  readonly clock: typeof import("../core/ports/clock.ts");
  readonly child: ChildProcess;
  readonly url: string;
};

type Sample = {
  readonly cpu: number;
  readonly py: number;
  readonly wall: number;
  readonly ofHop: number;
  /** The hop's CPU per record in the run beside it. */
  readonly hopCpu: number;
};

/** The Python server's CPU time (user + system) so far, in µs. */
function serverCpu(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] as string).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1e4;
}

async function side(spec: string): Promise<Side> {
  const [tree, sdk] = spec.split("@") as [string, string];
  const child = spawn("python3", ["-m", "riffle_sdk", "functions", "0"], {
    env: { ...process.env, PYTHONPATH: `${sdk}:${join(ROOT, "examples/remote")}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve) => {
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve(m[1] as string);
    });
  });
  return {
    spec,
    env: await import(`${tree}/core/api/environment.ts`),
    remote: await import(`${tree}/core/remote/remote-stream.ts`),
    embedded: await import(`${tree}/core/runtime/embedded.ts`),
    clock: await import(`${tree}/core/ports/clock.ts`),
    child,
    url,
  };
}

async function run(s: Side, fn: string, batchSize: number, records: number, hop: boolean) {
  let out = 0;
  const job = s.env.defineJob("pair", (env) => {
    const words = env.fromGenerator((i: number) => `word${i % 1000}`, { count: records });
    const mapped = hop
      ? words.rebalance().map((w: string) => w.toUpperCase())
      : s.remote.RemoteDataStream.map<string, string>(words, { name: fn, target: s.url, batchSize });
    mapped.sinkTo("out");
  });
  const rt = new s.embedded.EmbeddedRuntime(job, {
    parallelism: 1,
    clock: new s.clock.ManualClock(),
    onOutput: (_sink, v) => {
      out += v.length;
    },
  });
  const py0 = serverCpu(s.child.pid as number);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await rt.run();
  const wall = ((performance.now() - t0) * 1000) / records;
  const cpu = process.cpuUsage(cpu0);
  if (out !== records) throw new Error(`remote-pair: ${out} outputs for ${records} records`);
  return { cpu: (cpu.user + cpu.system) / records, py: (serverCpu(s.child.pid as number) - py0) / records, wall };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const [batch, records, reps, fn, ...specs] = process.argv.slice(2);
const sides = await Promise.all(specs.map(side));
const samples: Sample[][] = sides.map(() => []);
try {
  for (const s of sides) await run(s, fn as string, Number(batch), Number(records), false); // warm-up
  const load = [loadavg()[0] as number];
  for (let r = 0; r < Number(reps); r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = r % 2 === 0 ? k : sides.length - 1 - k;
      const s = sides[i] as Side;
      const hop = await run(s, fn as string, Number(batch), Number(records), true);
      const x = await run(s, fn as string, Number(batch), Number(records), false);
      (samples[i] as Sample[]).push({ ...x, ofHop: hop.wall / x.wall, hopCpu: hop.cpu });
    }
  }
  load.push(loadavg()[0] as number);
  sides.forEach((s, i) => {
    const xs = samples[i] as Sample[];
    const m = (f: (x: Sample) => number) => median(xs.map(f)).toFixed(3);
    console.log(
      `${s.spec} batch ${batch}: riffle CPU ${m((x) => x.cpu)} µs/record, Python ${m((x) => x.py)}, wall ${m((x) => x.wall)}, × hop ${m((x) => x.ofHop)}; the hop's CPU ${m((x) => x.hopCpu)}, × hop in CPU: riffle's ${m((x) => x.hopCpu / x.cpu)}, the busier process's ${m((x) => x.hopCpu / Math.max(x.cpu, x.py))}, both ${m((x) => x.hopCpu / (x.cpu + x.py))} (riffle CPU per rep: ${xs.map((x) => x.cpu.toFixed(2)).join(", ")})`,
    );
  });
  console.log(`load ${load.map((l) => l.toFixed(2)).join(" → ")}`);
} finally {
  for (const s of sides) s.child.kill("SIGTERM");
}
