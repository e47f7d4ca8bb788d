/**
 * Nexmark q12: bids per bidder per 10 s processing-time tumbling window, as
 * (bidder, bid_count, starttime, endtime). Processing time comes from the runtime's
 * clock, so the rows depend on when records are processed (no oracle); at end of input
 * every open window fires.
 */
import { type AggregateFunction, TumblingProcessingTimeWindows } from "riffle";
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const count: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, n) => n + 1,
  getResult: (n) => n,
};

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => b.bidder)
    .window(TumblingProcessingTimeWindows.of(10_000))
    .aggregate(count, (bidder, w, n) => ({ bidder, bid_count: n, starttime: w.start, endtime: w.end }));

export default nexmarkJob("nexmark-q12", query, { events: 100_000 });
