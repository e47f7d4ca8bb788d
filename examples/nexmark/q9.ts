/**
 * Nexmark q9: winning bids — per auction, the bid with auction.dateTime <= bid.dateTime <=
 * auction.expires and the highest price (then the earliest dateTime, then the earliest
 * event), joined with its auction.
 *
 * Final table: auctions and bids travel as one stream keyed by auction id; each key keeps
 * its auction and best bid so far (bids that come before their auction wait for it) and
 * emits its winner at end of input.
 */
import { valueState } from "riffle";
import { type AuctionE, type BidE, END_OF_INPUT, type Event, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const beats = (b: BidE, best: BidE) =>
  b.price > best.price ||
  (b.price === best.price &&
    (b.dateTime < best.dateTime || (b.dateTime === best.dateTime && b.eventId < best.eventId)));

const within = (b: BidE, a: AuctionE) => b.dateTime >= a.dateTime && b.dateTime <= a.expires;

export const query: NexmarkQuery = (events) =>
  events
    .filter((e) => e.type === "bid" || e.type === "auction")
    .keyBy((e: Event) => (e.type === "bid" ? e.auction : (e as { id: number }).id))
    .process({
      state: {
        auction: valueState<AuctionE>(),
        best: valueState<BidE>(),
        /** Bids that arrived before their auction. */
        early: valueState<readonly BidE[]>(),
      },
      processElement(e, ctx) {
        const st = ctx.state;
        if (e.type === "bid") {
          const a = st.auction.value();
          if (a === undefined) {
            st.early.update([...(st.early.value() ?? []), e]);
          } else if (within(e, a)) {
            const best = st.best.value();
            if (best === undefined || beats(e, best)) st.best.update(e);
          }
        } else if (e.type === "auction") {
          st.auction.update(e);
          const early = st.early.value();
          if (early !== undefined) {
            let best: BidE | undefined;
            for (const b of early) if (within(b, e) && (best === undefined || beats(b, best))) best = b;
            if (best !== undefined) st.best.update(best);
            st.early.clear();
          }
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        }
      },
      onTimer(_t, ctx) {
        const a = ctx.state.auction.value();
        const b = ctx.state.best.value();
        if (a === undefined || b === undefined) return;
        ctx.emit({
          id: a.id,
          itemName: a.itemName,
          description: a.description,
          initialBid: a.initialBid,
          reserve: a.reserve,
          dateTime: a.dateTime,
          expires: a.expires,
          seller: a.seller,
          category: a.category,
          extra: a.extra,
          auction: b.auction,
          bidder: b.bidder,
          price: b.price,
          bid_dateTime: b.dateTime,
          bid_extra: b.extra,
        });
      },
    });

export default nexmarkJob("nexmark-q9", query, { events: 100_000 });
