/** Nexmark q1: currency conversion — every bid's price × 0.908. */
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

export const query: NexmarkQuery = (events) =>
  bids(events).map((b) => ({
    auction: b.auction,
    bidder: b.bidder,
    price: (b.price * 908) / 1000,
    dateTime: b.dateTime,
    extra: b.extra,
  }));

export default nexmarkJob("nexmark-q1", query, { events: 100_000 });
