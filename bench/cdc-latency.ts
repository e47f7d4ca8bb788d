/**
 * End-to-end latency of a CDC pipeline, shared by the Postgres and DynamoDB CDC
 * benchmarks: one row written into the source every 50 ms, the sink polled every
 * 5 ms; per row, the time from its write returning to the poll that first sees it
 * in the sink.
 */
import { quantile } from "./stats.ts";

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
