/**
 * Shared plumbing of the Nexmark queries: the source (the deterministic generator,
 * or the events of a JSON-lines file from `riffle nexmark generate`, read and
 * checked up front with `readNexmarkEvents`), event time with a 4 s
 * bounded out-of-orderness watermark (as in NEXMARK.md), the three event kinds, and
 * a job around a query whose rows go to the sink `result`.
 */
import {
  type DataStream,
  defineJob,
  type Job,
  type Source,
  type SourceSplit,
  type SplitReader,
  WatermarkStrategy,
} from "riffle";
import { type Auction, type Bid, type NexmarkEvent, nexmarkConfig, type Person } from "../../core/nexmark/model.ts";
import { nexmarkSource } from "../../core/nexmark/source.ts";

/** An event with its position in the stream (ties in ROW_NUMBER go to the earlier event). */
export type Event = NexmarkEvent & { readonly eventId: number };
export type BidE = Bid & { readonly eventId: number };
export type AuctionE = Auction & { readonly eventId: number };
export type PersonE = Person & { readonly eventId: number };

/** A query: events in (timestamped, watermarked), result rows out. */
export type NexmarkQuery = (events: DataStream<Event>) => { sinkTo(name: string): unknown };

/** Where the events come from. */
export type NexmarkInput =
  | { readonly events: number; readonly seed?: number; readonly rate?: number; readonly splits?: number }
  | { readonly records: readonly NexmarkEvent[] };

/** The generator, with each event's id attached (split s yields ids s, s+S, …). */
function generated(input: { events: number; seed?: number; rate?: number; splits?: number }): Source<Event> {
  const cfg = nexmarkConfig({
    events: input.events,
    seed: input.seed ?? 0,
    ...(input.rate ? { rate: input.rate } : {}),
  });
  const inner = nexmarkSource(cfg, input.splits === undefined ? {} : { splits: input.splits });
  return {
    name: "nexmark",
    bounded: inner.bounded,
    splits: (p) => inner.splits(p),
    reader: (split: SourceSplit, position: unknown): SplitReader<Event> => {
      const r = inner.reader(split, position);
      let next = typeof position === "number" ? position : (split.first as number);
      const stride = split.stride as number;
      return {
        async read(max) {
          const chunk = await r.read(max);
          const records = chunk.records.map((e) => {
            const ev = { ...e, eventId: next } as Event;
            next += stride;
            return ev;
          });
          return { ...chunk, records };
        },
      };
    },
  };
}

/** Events given in full (e.g. read from a file); event id = index. One split. */
function fromEvents(events: readonly NexmarkEvent[]): Source<Event> {
  return {
    name: "nexmark-file",
    bounded: true,
    fixedParallelism: 1,
    splits: () => [{ id: "0" }],
    reader: (_split, position) => {
      let next = typeof position === "number" ? position : 0;
      return {
        read(max) {
          const records: Event[] = [];
          const times: number[] = [];
          while (records.length < max && next < events.length) {
            const e = events[next] as NexmarkEvent;
            records.push({ ...e, eventId: next } as Event);
            times.push(e.dateTime);
            next++;
          }
          return { records, times, position: next, done: next >= events.length };
        },
      };
    },
  };
}

/** Bids of the stream. */
export const bids = (events: DataStream<Event>) =>
  events.filter((e) => e.type === "bid") as unknown as DataStream<BidE>;
/** Auctions of the stream. */
export const auctions = (events: DataStream<Event>) =>
  events.filter((e) => e.type === "auction") as unknown as DataStream<AuctionE>;
/** People of the stream. */
export const persons = (events: DataStream<Event>) =>
  events.filter((e) => e.type === "person") as unknown as DataStream<PersonE>;

/** The job that runs `query` over `input`; its rows go to the sink `result`. */
export function nexmarkJob(name: string, query: NexmarkQuery, input: NexmarkInput): Job {
  return defineJob(name, (env) => {
    const source = "records" in input ? fromEvents(input.records) : generated(input);
    const events = env
      .fromSource(source)
      .uid("nexmark")
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forBoundedOutOfOrderness<Event>(4000).withTimestampAssigner((e) => e.dateTime),
      )
      .uid("event-time");
    query(events).sinkTo("result");
  });
}

/** A timer at the end of time: fires when bounded input ends (final-table queries emit there). */
export const END_OF_INPUT = Number.MAX_SAFE_INTEGER;

/** `sum / count` truncated toward zero, exactly (SQL integer AVG/division; safe integers, count > 0). */
export function truncDiv(sum: number, count: number): number {
  let q = Math.trunc(sum / count);
  const r = sum - q * count;
  if (sum >= 0) {
    if (r < 0) q--;
    else if (r >= count) q++;
  } else if (r > 0) q++;
  else if (r <= -count) q--;
  return q;
}
