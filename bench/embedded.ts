/**
 * Throughput of the embedded runtime on one core: a stateless job (generator → map →
 * filter → sink), a keyed one (generator → keyBy, 10k keys → running sum → sink), and
 * online training (generator → logistic regression, FTRL, 8 features → model versions).
 */

import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import { separableRows } from "../core/ml/datasets.ts";
import { LogisticRegression } from "../core/ml/logistic-regression.ts";
import { ManualClock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";

/** One job's figures. */
export interface EmbeddedFigure {
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

/** Online logistic regression: every record updates the model in keyed state; a version every 10k records. */
function onlineLrJob(n: number): Job {
  const rows = separableRows({
    seed: 1,
    coefficients: [1.5, -2, 1, 0.5, -1, 0.25, 2, -0.5],
    intercept: 0.3,
    noise: 0.5,
  });
  return defineJob("bench-online-lr", (env) => {
    const input = env.fromGenerator(rows, { count: n, splits: 1 });
    new LogisticRegression({ versionEvery: 10_000 }).fit(input).modelVersions().sinkTo("out");
  });
}

async function measure(name: string, job: Job, records: number): Promise<EmbeddedFigure> {
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

/** Runs a warm-up, then both jobs over `records` generated records. */
export async function measureEmbedded(records: number): Promise<EmbeddedFigure[]> {
  const warm = Math.min(100_000, records);
  await measure("warmup", statelessJob(warm), warm);
  return [
    await measure("stateless (map → filter → sink)", statelessJob(records), records),
    await measure("keyed (keyBy → running sum → sink, 10k keys)", keyedJob(records), records),
    await measure("online logistic regression (FTRL, 8 features → model versions)", onlineLrJob(records), records),
  ];
}
