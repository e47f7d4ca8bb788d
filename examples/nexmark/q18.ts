/**
 * Nexmark q18: the last bid of each (bidder, auction) — greatest dateTime, ties to the
 * greatest event id.
 *
 * Final table: keyed by (bidder, auction), the latest bid so far in one value per key, one
 * row per key at end of input.
 */
import { valueState } from "riffle";
import { type BidE, bids, END_OF_INPUT, type NexmarkQuery, nexmarkJob } from "./lib.ts";

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => [b.bidder, b.auction])
    .process({
      state: { last: valueState<BidE>() },
      processElement(b, ctx) {
        const last = ctx.state.last.value();
        if (last === undefined) {
          ctx.state.last.update(b);
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        } else if (b.dateTime > last.dateTime || (b.dateTime === last.dateTime && b.eventId > last.eventId)) {
          ctx.state.last.update(b);
        }
      },
      onTimer(_t, ctx) {
        const b = ctx.state.last.value();
        if (b === undefined) return;
        ctx.emit({
          auction: b.auction,
          bidder: b.bidder,
          price: b.price,
          channel: b.channel,
          url: b.url,
          dateTime: b.dateTime,
          extra: b.extra,
        });
      },
    });

export default nexmarkJob("nexmark-q18", query, { events: 100_000 });
