/**
 * Nexmark q19: the ten highest bids of each auction, numbered 1..10 by price descending;
 * equal prices rank by event id (the earlier event first).
 *
 * Final table: keyed by auction, the current top ten in one sorted value per key (a bid
 * that cannot enter it costs one read), ranked rows at end of input.
 */
import { valueState } from "riffle";
import { type BidE, bids, END_OF_INPUT, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const N = 10;

/** True when `a` ranks before `b`. */
const before = (a: BidE, b: BidE) => a.price > b.price || (a.price === b.price && a.eventId < b.eventId);

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => b.auction)
    .process({
      state: { top: valueState<readonly BidE[]>() },
      processElement(b, ctx) {
        const top = ctx.state.top.value();
        if (top === undefined) {
          ctx.state.top.update([b]);
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
          return;
        }
        if (top.length === N && !before(b, top[N - 1] as BidE)) return;
        let i = top.length;
        while (i > 0 && before(b, top[i - 1] as BidE)) i--;
        const next = [...top.slice(0, i), b, ...top.slice(i, N - 1)];
        ctx.state.top.update(next);
      },
      onTimer(_t, ctx) {
        const top = ctx.state.top.value() ?? [];
        top.forEach((b, i) => {
          ctx.emit({
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel,
            url: b.url,
            dateTime: b.dateTime,
            extra: b.extra,
            rank_number: i + 1,
          });
        });
      },
    });

export default nexmarkJob("nexmark-q19", query, { events: 100_000 });
