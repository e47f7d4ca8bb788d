/**
 * Nexmark q7: highest bid — per tumbling 10 s window [s, s + 10000) with maximum price M,
 * every bid with price = M and s <= dateTime <= s + 10000 (BETWEEN is inclusive, so a bid
 * exactly at s + 10000, which belongs to the next window, also matches; ties are all
 * emitted, and one bid may match two windows).
 *
 * Keyed by window start: each bid goes to its own window, and a bid at exactly a window
 * boundary also goes to the previous window as an "edge" candidate. A window keeps its
 * maximum, the in-window bids at that maximum, and the edge bids that may still reach it
 * (a few bids per window), and emits at end of input, so the rows are exact however late
 * a bid arrives.
 */
import { valueState } from "riffle";
import { type BidE, END_OF_INPUT, type Event, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const SIZE = 10_000;

/** A bid at the start of the next window, offered to the previous one. */
type Edge = { readonly edge: BidE };
type Top = { readonly max: number; readonly bids: readonly BidE[] };

const NONE: never[] = [];
const windowOf = (t: number) => t - (((t % SIZE) + SIZE) % SIZE);

const row = (b: BidE) => ({
  auction: b.auction,
  price: b.price,
  bidder: b.bidder,
  dateTime: b.dateTime,
  extra: b.extra,
});

export const query: NexmarkQuery = (events) =>
  events
    .flatMap((e: Event): Iterable<BidE | Edge> => {
      if (e.type !== "bid") return NONE;
      return windowOf(e.dateTime) === e.dateTime ? [e, { edge: e }] : [e];
    })
    .keyBy((r) => ("edge" in r ? r.edge.dateTime - SIZE : windowOf(r.dateTime)))
    .process({
      state: { top: valueState<Top>(), edges: valueState<readonly BidE[]>() },
      processElement(r, ctx) {
        const top = ctx.state.top.value();
        if ("edge" in r) {
          const b = r.edge;
          if (top !== undefined && b.price < top.max) return;
          const edges = ctx.state.edges.value();
          ctx.state.edges.update(edges === undefined ? [b] : [...edges, b]);
          if (top === undefined && edges === undefined) ctx.timers.registerEventTimeTimer(END_OF_INPUT);
          return;
        }
        if (top === undefined) {
          ctx.state.top.update({ max: r.price, bids: [r] });
          if (ctx.state.edges.value() === undefined) ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        } else if (r.price > top.max) ctx.state.top.update({ max: r.price, bids: [r] });
        else if (r.price === top.max) ctx.state.top.update({ max: top.max, bids: [...top.bids, r] });
      },
      onTimer(_t, ctx) {
        const top = ctx.state.top.value();
        if (top !== undefined) {
          for (const b of top.bids) ctx.emit(row(b));
          for (const b of ctx.state.edges.value() ?? []) if (b.price === top.max) ctx.emit(row(b));
        }
      },
    });

export default nexmarkJob("nexmark-q7", query, { events: 100_000 });
