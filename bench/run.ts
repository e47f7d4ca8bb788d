/**
 * `npm run bench [-- <part>] [--json]`: throughput of the embedded runtime on one core.
 *
 * Parts:
 *   embedded   stateless and keyed jobs, records/s (default)
 *
 * Prints JSON on stdout (always); a readable summary on stderr unless --json.
 */
import { cpus } from "node:os";
import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import { ManualClock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { type CheckpointFigure, measureCheckpoints } from "./checkpoint.ts";
import { measureNexmark, type NexmarkFigure } from "./nexmark.ts";

interface Figure {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** Segments committed (one per batch that did work). */
  readonly segments: number;
  /** Batches run (at most 10 envelopes each). */
  readonly batches: number;
  /** Records committed to the sink. */
  readonly output: number;
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const parts = args.filter((a) => !a.startsWith("--"));
const KNOWN = ["embedded", "checkpoint", "nexmark"];
for (const p of parts) {
  if (!KNOWN.includes(p)) {
    process.stderr.write(`bench: unknown part '${p}'; parts: ${KNOWN.join(", ")}\n`);
    process.exit(2);
  }
}

interface Event {
  user: number;
  page: number;
  amount: number;
}
const event = (i: number): Event => {
  const h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  return { user: h % 10_000, page: (h >>> 14) % 1000, amount: (h >>> 4) % 1000 };
};

function statelessJob(n: number): Job {
  return defineJob("bench-stateless", (env) => {
    env
      .fromGenerator(event, { count: n })
      .map((e) => ({ ...e, amount: e.amount * 0.908 }))
      .filter((e) => e.page % 3 !== 0)
      .sinkTo("out");
  });
}

function keyedJob(n: number): Job {
  return defineJob("bench-keyed", (env) => {
    env
      .fromGenerator(event, { count: n })
      .keyBy((e) => e.user)
      .process({
        state: { total: valueState<number>() },
        processElement(e, ctx) {
          const total = (ctx.state.total.value() ?? 0) + e.amount;
          ctx.state.total.update(total);
          if (total > 5000) ctx.emit({ user: ctx.key, total });
        },
      })
      .sinkTo("out");
  });
}

async function measure(name: string, job: Job, records: number): Promise<Figure> {
  let out = 0;
  const rt = new EmbeddedRuntime(job, {
    parallelism: 1,
    clock: new ManualClock(),
    onOutput: (_s, v) => {
      out += v.length;
    },
  });
  const t0 = performance.now();
  await rt.run();
  const seconds = (performance.now() - t0) / 1000;
  return {
    name,
    records,
    seconds: Number(seconds.toFixed(3)),
    recordsPerSecond: Math.round(records / seconds),
    segments: rt.taskRunners.reduce((a, r) => a + r.stats.segments, 0),
    batches: rt.taskRunners.reduce((a, r) => a + r.stats.batches, 0),
    output: out,
  };
}

const N = Number(process.env.RIFFLE_BENCH_RECORDS ?? 1_000_000);
const results: Figure[] = [];
if (parts.length === 0 || parts.includes("embedded")) {
  await measure("warmup", statelessJob(100_000), 100_000);
  results.push(await measure("stateless (map → filter → sink)", statelessJob(N), N));
  results.push(await measure("keyed (keyBy → running sum → sink, 10k keys)", keyedJob(N), N));
}

const checkpoints: CheckpointFigure[] = [];
if (parts.length === 0 || parts.includes("checkpoint")) {
  for (const keys of [1_000, 100_000, 1_000_000]) checkpoints.push(await measureCheckpoints(keys));
}

const nexmark: NexmarkFigure[] = [];
if (parts.length === 0 || parts.includes("nexmark")) {
  nexmark.push(...(await measureNexmark(Number(process.env.RIFFLE_BENCH_NEXMARK_EVENTS ?? 500_000))));
}

const report = {
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version },
  note: "one process, one core; records/s counts source records; parallelism 1",
  embedded: results,
  nexmark: {
    note: "embedded, parallelism 1, events/s including generation; baseline = hand-written single JS loop over the same generated events (where written); flinkPerCore from NEXMARK.md",
    queries: nexmark,
  },
  checkpoint: {
    note: "embedded, in-memory stores; checkpoint = trigger to manifest while the job runs; restore = new generation + logs cut + relaunch",
    bySize: checkpoints,
    ratio1MTo1k:
      checkpoints.length === 3
        ? Number(((checkpoints[2]?.checkpointMsMedian ?? 0) / (checkpoints[0]?.checkpointMsMedian || 1)).toFixed(2))
        : undefined,
  },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
if (!json) {
  for (const n of nexmark) {
    process.stderr.write(
      `nexmark ${n.query}: ${n.riffleEventsPerSec.toLocaleString("en")} events/s (${n.multipleOfFlink}× Flink's ${n.flinkPerCore?.toLocaleString("en")}/core)` +
        (n.baselineEventsPerSec
          ? `; JS loop ${n.baselineEventsPerSec.toLocaleString("en")}/s, ratio ${n.ratioToBaseline}`
          : "") +
        "\n",
    );
  }
  for (const c of checkpoints) {
    process.stderr.write(
      `checkpoint @ ${c.keys.toLocaleString("en")} keys: median ${c.checkpointMsMedian} ms (p90 ${c.checkpointMsP90}), restore ${c.restoreMs} ms\n`,
    );
  }
  for (const r of results) {
    process.stderr.write(
      `${r.name}: ${r.recordsPerSecond.toLocaleString("en")} records/s (${r.records.toLocaleString("en")} in ${r.seconds} s)\n`,
    );
  }
}
