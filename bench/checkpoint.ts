/**
 * Checkpoint cost by state size: with 1k, 100k and 1M keys of keyed state loaded,
 * how long a checkpoint takes (trigger → every partition acked → manifest) and how
 * long a restore takes (new generation, logs cut back, tasks relaunched). Log-based
 * checkpoints copy no state, so neither should grow with the number of keys.
 * Figures are medians (checkpoints while the job runs; three restores).
 */
import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import type { Clock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { quantile } from "./stats.ts";

/** A wall clock with sub-millisecond resolution. */
class PreciseClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
}

function loaded(keys: number): Job {
  return defineJob("bench-checkpoint", (env) => {
    env.enableCheckpointing(20);
    env.setRestartStrategy({ attempts: 5, delayMs: 0 });
    env
      .fromGenerator((i) => (i < keys ? i : i % 1000), { splits: 2 })
      .setParallelism(1)
      .keyBy((k) => k)
      .process({
        state: { n: valueState<number>() },
        processElement(_k, ctx) {
          ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
        },
      })
      .setParallelism(2)
      .sinkTo("none");
  });
}

/** Figures at one state size. */
export interface CheckpointFigure {
  readonly keys: number;
  readonly checkpoints: number;
  readonly checkpointMsMedian: number;
  readonly checkpointMsP90: number;
  readonly alignmentMsMedian: number;
  /** Restores measured. */
  readonly restores: number;
  /** Median restore time. */
  readonly restoreMs: number;
}

/** Restores per state size; the median is reported. */
const RESTORES = 3;

/**
 * Loads `keys` keys, then measures checkpoints while the job runs, failing over
 * after every fifth one ({@link RESTORES} restores), until 25 have completed.
 */
export async function measureCheckpoints(keys: number): Promise<CheckpointFigure> {
  const stop = new AbortController();
  const durations: number[] = [];
  const alignments: number[] = [];
  const restores: number[] = [];
  let rt: EmbeddedRuntime | undefined;
  let failedOver = false;
  rt = new EmbeddedRuntime(loaded(keys), {
    clock: new PreciseClock(),
    signal: stop.signal,
    onCheckpoint: (e) => {
      const r = rt as EmbeddedRuntime;
      if (e.kind !== "completed" || r.sourceRecords() < keys) return;
      if (failedOver) {
        restores.push(r.lastRestoreMs ?? Number.NaN);
        failedOver = false;
      }
      durations.push(e.manifest.durationMs ?? 0);
      alignments.push(e.manifest.alignmentMs ?? 0);
      if (durations.length % 5 === 0 && restores.length < RESTORES) {
        failedOver = true;
        r.requestFailover("benchmark restore");
      }
      if (durations.length >= 25) stop.abort();
    },
  });
  await rt.run();
  return {
    keys,
    checkpoints: durations.length,
    checkpointMsMedian: quantile(durations, 0.5),
    checkpointMsP90: quantile(durations, 0.9),
    alignmentMsMedian: quantile(alignments, 0.5),
    restores: restores.length,
    restoreMs: quantile(restores, 0.5),
  };
}
