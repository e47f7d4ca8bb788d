/** Nexmark q14: a stateless mix — price conversion, a day/night bucket by UTC hour, a filter, a scalar function. */
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const timeType = (ms: number) => {
  const h = new Date(ms).getUTCHours();
  if (h >= 8 && h <= 18) return "dayTime";
  if (h <= 6 || h >= 20) return "nightTime";
  return "otherTime";
};
const countC = (s: string) => {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 99) n++;
  return n;
};

export const query: NexmarkQuery = (events) =>
  bids(events)
    .filter((b) => b.price * 908 > 1_000_000_000 && b.price * 908 < 50_000_000_000)
    .map((b) => ({
      auction: b.auction,
      bidder: b.bidder,
      price: (b.price * 908) / 1000,
      bidTimeType: timeType(b.dateTime),
      dateTime: b.dateTime,
      extra: b.extra,
      c_counts: countC(b.extra),
    }));

export default nexmarkJob("nexmark-q14", query, { events: 100_000 });
