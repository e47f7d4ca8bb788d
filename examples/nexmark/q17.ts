/**
 * Nexmark q17: per auction and UTC day, bid counts by price band (as q15) and min / max /
 * avg / sum of price; avg_price is BIGINT as in Flink (sum / count truncated toward zero).
 *
 * Final table: keyed by (auction, day), running totals in one value per key, one row per key
 * at end of input.
 */
import { valueState } from "riffle";
import { bids, END_OF_INPUT, type NexmarkQuery, nexmarkJob, truncDiv } from "./lib.ts";

const DAY = 86_400_000;

/** [count, rank1, rank2, rank3, min, max, sum]. */
type Stats = readonly [number, number, number, number, number, number, number];

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => [b.auction, Math.floor(b.dateTime / DAY)])
    .process({
      state: { s: valueState<Stats>() },
      processElement(b, ctx) {
        const s = ctx.state.s.value();
        const p = b.price;
        const r1 = p < 10_000 ? 1 : 0;
        const r3 = p >= 1_000_000 ? 1 : 0;
        const r2 = 1 - r1 - r3;
        if (s === undefined) {
          ctx.state.s.update([1, r1, r2, r3, p, p, p]);
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        } else {
          ctx.state.s.update([
            s[0] + 1,
            s[1] + r1,
            s[2] + r2,
            s[3] + r3,
            p < s[4] ? p : s[4],
            p > s[5] ? p : s[5],
            s[6] + p,
          ]);
        }
      },
      onTimer(_t, ctx) {
        const s = ctx.state.s.value();
        if (s === undefined) return;
        const [auction, day] = ctx.key as readonly number[] as [number, number];
        ctx.emit({
          auction,
          day: new Date(day * DAY).toISOString().slice(0, 10),
          total_bids: s[0],
          rank1_bids: s[1],
          rank2_bids: s[2],
          rank3_bids: s[3],
          min_price: s[4],
          max_price: s[5],
          avg_price: truncDiv(s[6], s[0]),
          sum_price: s[6],
        });
      },
    });

export default nexmarkJob("nexmark-q17", query, { events: 100_000 });
