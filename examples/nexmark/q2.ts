/** Nexmark q2: selection — bids on every 123rd auction. */
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

export const query: NexmarkQuery = (events) =>
  bids(events)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price }));

export default nexmarkJob("nexmark-q2", query, { events: 100_000 });
