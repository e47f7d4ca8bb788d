/**
 * Nexmark q5: hot items — per sliding window (size 10 s, slide 2 s), the auctions with the
 * most bids (ties all emitted), as (auction, num).
 *
 * Stage 1 counts bids per auction and window [k·2000, k·2000 + 10000), with the semantics
 * of SlidingEventTimeWindows.of(10000, 2000) (a window fires when the watermark passes its
 * end − 1; a bid counts only in windows not yet fired). It is written as a keyed process
 * function over 2 s panes rather than with the window API, so that a bid costs one small
 * state write instead of one per window: each auction keeps [pane start, count, …], and
 * at each window end the five panes of that window are summed. Its rows carry the window's
 * end − 1 as their time. Stage 2, keyed by window start, keeps the maximum count and the
 * auctions that reach it, and emits them when the watermark passes the window's end:
 * every stage-1 row of a window precedes the watermark that closed it.
 */
import { valueState } from "riffle";
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const SIZE = 10_000;
const SLIDE = 2_000;

/** Bid counts of one auction per pane: [pane start, count, …], ascending. */
type Panes = readonly number[];
type Hot = { readonly max: number; readonly auctions: readonly number[] };

/** Bids of one auction in one window. */
type Count = { readonly auction: number; readonly start: number; readonly num: number };
const perAuction = { panes: valueState<Panes>() };

const paneOf = (t: number) => t - (((t % SLIDE) + SLIDE) % SLIDE);

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => b.auction)
    .process<Count, typeof perAuction>({
      state: perAuction,
      processElement(b, ctx) {
        const pane = paneOf(b.dateTime);
        const wm = ctx.timers.currentWatermark();
        if (pane + SIZE - 1 <= wm) return; // every window of this bid has fired
        const panes = ctx.state.panes.value();
        let next: number[];
        if (panes === undefined) next = [pane, 1];
        else {
          let i = panes.length - 2;
          while (i >= 0 && (panes[i] as number) > pane) i -= 2;
          next = panes.slice();
          if (i >= 0 && panes[i] === pane) next[i + 1] = (next[i + 1] as number) + 1;
          else next.splice(i + 2, 0, pane, 1);
        }
        ctx.state.panes.update(next);
        // The first window of this pane that has not fired yet ends at `end`.
        let end = pane + SLIDE - 1;
        if (end <= wm) end += Math.ceil((wm - end + 1) / SLIDE) * SLIDE;
        ctx.timers.registerEventTimeTimer(end);
      },
      onTimer(end, ctx) {
        const panes = ctx.state.panes.value();
        if (panes === undefined) return;
        const start = end + 1 - SIZE;
        let num = 0;
        let rest = 0;
        for (let i = 0; i < panes.length; i += 2) {
          const p = panes[i] as number;
          if (p >= start && p < start + SIZE) num += panes[i + 1] as number;
          if (p <= start) rest = i + 2;
        }
        if (num > 0) ctx.emit({ auction: ctx.key as number, start, num });
        if (rest === panes.length) ctx.state.panes.clear();
        else {
          if (rest > 0) ctx.state.panes.update(panes.slice(rest));
          ctx.timers.registerEventTimeTimer(end + SLIDE);
        }
      },
    })
    .keyBy((r) => r.start)
    .process({
      state: { hot: valueState<Hot>() },
      processElement(r, ctx) {
        const hot = ctx.state.hot.value();
        if (hot === undefined) {
          ctx.state.hot.update({ max: r.num, auctions: [r.auction] });
          ctx.timers.registerEventTimeTimer(r.start + SIZE - 1);
        } else if (r.num > hot.max) ctx.state.hot.update({ max: r.num, auctions: [r.auction] });
        else if (r.num === hot.max) ctx.state.hot.update({ max: hot.max, auctions: [...hot.auctions, r.auction] });
      },
      onTimer(_t, ctx) {
        const hot = ctx.state.hot.value();
        if (hot !== undefined) for (const auction of hot.auctions) ctx.emit({ auction, num: hot.max });
        ctx.state.hot.clear();
      },
    });

export default nexmarkJob("nexmark-q5", query, { events: 100_000 });
