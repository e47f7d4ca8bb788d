/**
 * Nexmark on one core: per query, events/s of riffle's embedded runtime including
 * generation, beside a hand-written single-loop JavaScript baseline over the same
 * events (no engine) and Flink's published per-core figure (NEXMARK.md).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { nexmarkEvent } from "../core/nexmark/generator.ts";
import { nexmarkConfig } from "../core/nexmark/model.ts";
import { ManualClock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";
import { BASELINES } from "./nexmark-baselines.ts";

/** Flink 1.13–2.0, nexmark GUIDE_V1, events/s per core (NEXMARK.md). */
export const FLINK_PER_CORE: Record<string, number> = {
  q0: 155_000,
  q1: 158_000,
  q2: 175_000,
  q3: 152_000,
  q4: 34_000,
  q5: 22_000,
  q7: 12_000,
  q8: 146_000,
  q9: 14_000,
  q11: 40_000,
  q12: 76_000,
  q14: 161_000,
  q15: 72_000,
  q17: 117_000,
  q18: 54_000,
  q19: 44_000,
};

/** One query's figures. */
export interface NexmarkFigure {
  readonly query: string;
  readonly events: number;
  readonly riffleEventsPerSec: number;
  readonly baselineEventsPerSec: number | undefined;
  /** riffle / baseline. */
  readonly ratioToBaseline: number | undefined;
  readonly flinkPerCore: number | undefined;
  /** riffle / Flink's per-core figure (goal: ≥ 2). */
  readonly multipleOfFlink: number | undefined;
  readonly rows: number;
  /** Rows of the baseline (equal to `rows` when it does the same work; q12 depends on the wall clock). */
  readonly baselineRows: number | undefined;
}

/** Measures every query present in examples/nexmark/. */
export async function measureNexmark(events: number): Promise<NexmarkFigure[]> {
  const out: NexmarkFigure[] = [];
  const cfg = nexmarkConfig({ events, seed: 7 });
  for (const q of Object.keys(FLINK_PER_CORE)) {
    const file = join(import.meta.dirname, "../examples/nexmark", `${q}.ts`);
    if (!existsSync(file)) continue;
    const { query } = (await import(file)) as { query: NexmarkQuery };
    let rows = 0;
    const rt = new EmbeddedRuntime(nexmarkJob(`bench-${q}`, query, { events, seed: 7 }), {
      parallelism: 1,
      clock: new ManualClock(),
      onOutput: (_s, v) => {
        rows += v.length;
      },
    });
    const t0 = performance.now();
    await rt.run();
    const riffle = events / ((performance.now() - t0) / 1000);
    let baseline: number | undefined;
    let baselineRows: number | undefined;
    const make = BASELINES[q];
    if (make) {
      const loop = make();
      const b0 = performance.now();
      for (let i = 0; i < events; i++) loop.add(nexmarkEvent(i, cfg), i);
      baselineRows = loop.finish();
      baseline = events / ((performance.now() - b0) / 1000);
    }
    const flink = FLINK_PER_CORE[q];
    out.push({
      query: q,
      events,
      riffleEventsPerSec: Math.round(riffle),
      baselineEventsPerSec: baseline === undefined ? undefined : Math.round(baseline),
      ratioToBaseline: baseline === undefined ? undefined : Number((riffle / baseline).toFixed(3)),
      flinkPerCore: flink,
      multipleOfFlink: flink === undefined ? undefined : Number((riffle / flink).toFixed(2)),
      rows,
      baselineRows,
    });
  }
  return out;
}
