/**
 * End-to-end latency on the embedded runtime: records are ingested at a fixed rate
 * (through `EmbeddedJobControl.ingest`, the call behind `POST /jobs/{job}/sources/{name}/events`,
 * into an `InMemoryIngestLog`), go through a keyed counter and reach the sink, whose
 * output is committed when the checkpoint after them completes (every second). Each
 * record carries its ingest time; latency = time its committed output is delivered −
 * ingest time. The first second is left out (warm-up).
 */

import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import { EmbeddedJobControl } from "../core/control/embedded-control.ts";
import { InMemoryIngestLog } from "../core/memory/in-memory-ingest-log.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { quantile } from "./stats.ts";

/** The latency part. */
export interface LatencyFigure {
  readonly note: string;
  /** Input rate, records/s. */
  readonly rate: number;
  readonly seconds: number;
  readonly checkpointIntervalMs: number;
  readonly ingested: number;
  /** Committed outputs measured (after warm-up). */
  readonly measured: number;
  readonly checkpoints: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const INTERVAL_MS = 1000;
const TICK_MS = 10;

interface In {
  readonly k: number;
  readonly t: number;
}

const latencyJob: Job = defineJob("bench-latency", (env) => {
  env.enableCheckpointing(INTERVAL_MS);
  env
    .fromIngest<In>("events", { partitions: 2 })
    .keyBy((e) => e.k)
    .process({
      state: { n: valueState<number>() },
      processElement(e, ctx) {
        const n = (ctx.state.n.value() ?? 0) + 1;
        ctx.state.n.update(n);
        ctx.emit({ k: e.k, n, t: e.t });
      },
    })
    .sinkTo("out");
});

const now = () => performance.timeOrigin + performance.now();

/** Ingests `rate` records/s for `seconds` s, then waits for every output. */
export async function measureLatency(rate: number, seconds: number): Promise<LatencyFigure> {
  const ingest = new InMemoryIngestLog();
  const stop = new AbortController();
  const latencies: number[] = [];
  let outputs = 0;
  let checkpoints = 0;
  const start = now();
  const warm = start + 1000;
  const runtime = new EmbeddedRuntime(latencyJob, {
    ingest,
    parallelism: 2,
    signal: stop.signal,
    idleSleepMs: 2,
    onOutput: (_sink, values) => {
      const at = now();
      for (const v of values as In[]) {
        outputs++;
        if (v.t >= warm) latencies.push(at - v.t);
      }
    },
    onCheckpoint: (e) => {
      if (e.kind === "completed") checkpoints++;
    },
  });
  const control = new EmbeddedJobControl(runtime, ingest);
  const running = runtime.run();
  let ingested = 0;
  try {
    const end = start + seconds * 1000;
    while (now() < end) {
      const due = Math.floor(((now() - start) / 1000) * rate);
      if (due > ingested) {
        const t = now();
        const records = Array.from({ length: due - ingested }, (_, i) => ({ k: (ingested + i) % 1000, t }));
        await control.ingest("events", records);
        ingested = due;
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    const deadline = now() + 5 * INTERVAL_MS;
    while (outputs < ingested && now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (outputs < ingested) {
      throw new Error(`latency bench: ${outputs} of ${ingested} records committed 5 s after the input stopped`);
    }
  } finally {
    stop.abort();
    await running;
  }
  return {
    note:
      "embedded runtime, ingest (EmbeddedJobControl.ingest into an InMemoryIngestLog, 2 partitions, one call every 10 ms) → " +
      "keyBy → counter → sink, parallelism 2, checkpoint every 1 s, output committed at checkpoint completion; latency = " +
      "committed output delivered − ingest time; the first second is left out",
    rate,
    seconds,
    checkpointIntervalMs: INTERVAL_MS,
    ingested,
    measured: latencies.length,
    checkpoints,
    p50Ms: round(quantile(latencies, 0.5)),
    p90Ms: round(quantile(latencies, 0.9)),
    p99Ms: round(quantile(latencies, 0.99)),
    maxMs: round(Math.max(0, ...latencies)),
  };
}

const round = (x: number) => Number(x.toFixed(1));
