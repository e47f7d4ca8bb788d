/**
 * What the Postgres and DynamoDB CDC benchmarks share: the end-to-end latency of a
 * pipeline (one row written into the source every 50 ms, the sink polled every
 * 5 ms; per row, the time from its write returning to the poll that first sees it
 * in the sink), the job's run on the embedded runtime, the wait for the sink to
 * catch up, and the figure a run reports.
 */
import type { Job } from "../core/api/environment.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { quantile } from "./stats.ts";

/** The checkpoint interval of the CDC jobs. */
export const CDC_CHECKPOINT_MS = 1000;

/** Wall-clock milliseconds. */
export const now = (): number => performance.timeOrigin + performance.now();
/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** One decimal. */
export const round = (x: number): number => Number(x.toFixed(1));

/** How the latency loop reaches one pipeline's source and sink. */
export interface LatencyProbe {
  /** Writes row `id` into the source (resolves once it is committed there). */
  write(id: number): Promise<void>;
  /** Of `ids` (at most 100), those the sink holds now. */
  seen(ids: readonly number[]): Promise<number[]>;
}

/** The latency figures of a run. */
export interface LatencyFigure {
  readonly latencySamples: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/** The figures of one CDC part: snapshot and streaming rates, and latency. */
export interface CdcFigure extends LatencyFigure {
  readonly note: string;
  readonly rows: number;
  readonly snapshotSeconds: number;
  readonly snapshotRowsPerSec: number;
  readonly streamedChanges: number;
  readonly streamingSeconds: number;
  readonly streamingChangesPerSec: number;
  readonly checkpointIntervalMs: number;
}

/** What a CDC run measured: `rows` snapshotted, then `rows` changes streamed. */
export interface CdcRun {
  readonly note: string;
  readonly rows: number;
  readonly snapshotSeconds: number;
  readonly streamingSeconds: number;
  readonly latency: LatencyFigure;
}

/** The figure of `run`: seconds to one decimal, rates per second. */
export function cdcFigure(run: CdcRun): CdcFigure {
  const { rows, snapshotSeconds, streamingSeconds } = run;
  return {
    note: run.note,
    rows,
    snapshotSeconds: round(snapshotSeconds),
    snapshotRowsPerSec: Math.round(rows / snapshotSeconds),
    streamedChanges: rows,
    streamingSeconds: round(streamingSeconds),
    streamingChangesPerSec: Math.round(rows / streamingSeconds),
    checkpointIntervalMs: CDC_CHECKPOINT_MS,
    ...run.latency,
  };
}

/** Starts `job` on the embedded runtime (parallelism 1); the function returned stops it and waits for its end. */
export function runEmbedded(job: Job): () => Promise<void> {
  const stop = new AbortController();
  const running = new EmbeddedRuntime(job, { parallelism: 1, signal: stop.signal, idleSleepMs: 2 }).run();
  return async () => {
    stop.abort();
    await running.catch(() => {});
  };
}

/** Polls `check` every `pollMs` until it holds; past `ms`, fails naming the bench (`bench`) and `what`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  bench: string,
  what: string,
  pollMs: number,
  ms = 600_000,
): Promise<void> {
  const deadline = now() + ms;
  while (!(await check())) {
    if (now() > deadline) throw new Error(`${bench}: timed out waiting until ${what}`);
    await sleep(pollMs);
  }
}

/** Writes rows `after + 1, …` for `seconds` and measures each one's write-to-sink time; `what` names the pipeline. */
export async function measureLatency(
  probe: LatencyProbe,
  after: number,
  seconds: number,
  what: string,
): Promise<LatencyFigure> {
  const pending = new Map<number, number>();
  const latencies: number[] = [];
  let writing = true;
  let written = 0;
  const poller = (async () => {
    while (writing || latencies.length < written) {
      const ids = [...pending.keys()].slice(0, 100);
      if (ids.length > 0) {
        const found = await probe.seen(ids);
        const at = now();
        for (const id of found) {
          const t = pending.get(id);
          if (t !== undefined) latencies.push(at - t);
          pending.delete(id);
        }
      }
      await sleep(5);
    }
  })();
  const end = now() + seconds * 1000;
  for (let id = after + 1; now() < end; id++) {
    await probe.write(id);
    pending.set(id, now());
    written++;
    await sleep(50);
  }
  writing = false;
  await Promise.race([poller, sleep(30_000)]);
  if (latencies.length < written) throw new Error(`${what}: rows missing from the sink 30 s later`);
  return {
    latencySamples: latencies.length,
    latencyP50Ms: round(quantile(latencies, 0.5)),
    latencyP99Ms: round(quantile(latencies, 0.99)),
  };
}
