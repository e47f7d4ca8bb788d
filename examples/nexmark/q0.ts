/** Nexmark q0: pass-through — every bid. */
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

export const query: NexmarkQuery = (events) =>
  bids(events).map((b) => ({
    auction: b.auction,
    bidder: b.bidder,
    price: b.price,
    dateTime: b.dateTime,
    extra: b.extra,
  }));

export default nexmarkJob("nexmark-q0", query, { events: 100_000 });
