/**
 * Nexmark on one core: per query, events/s of riffle's embedded runtime including
 * generation, beside a hand-written single-loop JavaScript baseline over the same
 * events (no engine) and Flink's published per-core figure (NEXMARK.md).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { nexmarkEvent } from "../core/nexmark/generator.ts";
import { type NexmarkEvent, nexmarkConfig } from "../core/nexmark/model.ts";
import { ManualClock } from "../core/ports/clock.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";

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

type Loop = (e: NexmarkEvent, acc: { n: number }) => void;
const hour = (ms: number) => Math.floor(ms / 3_600_000) % 24;
/** Single-loop baselines: generate, filter, project; stateful ones keep a Map. */
const BASELINES: Record<string, () => Loop> = {
  q0: () => (e, acc) => {
    if (e.type === "bid") acc.n += e.extra.length > -1 ? 1 : 0;
  },
  q1: () => (e, acc) => {
    if (e.type === "bid") acc.n += (e.price * 908) / 1000 > -1 ? 1 : 0;
  },
  q2: () => (e, acc) => {
    if (e.type === "bid" && e.auction % 123 === 0) acc.n++;
  },
  q14: () => (e, acc) => {
    if (e.type === "bid" && e.price * 908 > 1e9 && e.price * 908 < 5e10) acc.n += hour(e.dateTime) >= 8 ? 1 : 0;
  },
  q17: () => {
    const m = new Map<string, number>();
    return (e, acc) => {
      if (e.type !== "bid") return;
      const k = `${e.auction}|${Math.floor(e.dateTime / 86_400_000)}`;
      m.set(k, (m.get(k) ?? 0) + e.price);
      acc.n = m.size;
    };
  },
  q18: () => {
    const m = new Map<string, NexmarkEvent>();
    return (e, acc) => {
      if (e.type !== "bid") return;
      m.set(`${e.bidder}|${e.auction}`, e);
      acc.n = m.size;
    };
  },
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
    const make = BASELINES[q];
    if (make) {
      const loop = make();
      const acc = { n: 0 };
      const b0 = performance.now();
      for (let i = 0; i < events; i++) loop(nexmarkEvent(i, cfg), acc);
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
    });
  }
  return out;
}
