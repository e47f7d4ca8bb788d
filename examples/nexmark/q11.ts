/**
 * Nexmark q11: user sessions — bids per bidder per event-time session (gap 10 s), with the
 * session's first bid time (starttime) and last bid time + 10 s (endtime).
 *
 * Session windows as Flink's (and riffle's EventTimeSessionWindows): a bid at t opens
 * [t, t + gap) and windows merge when they intersect with closed bounds, so a bid at most
 * 10 s after a session's last bid joins it; a session fires when the watermark passes
 * its end − 1, and a bid too late for any open session is dropped. Written as a keyed
 * process function rather than with the window API so that a bid extending its session
 * costs one small state write: sessions are kept as a flat [start, last, count, …] array,
 * and the timer is re-armed lazily (a timer that finds its session extended re-registers
 * at the new end) instead of being moved on every bid.
 */
import { valueState } from "riffle";
import { bids, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const GAP = 10_000;

/** Open sessions of a bidder: [start, last bid time, bid count] per session, flattened. */
type Sessions = readonly number[];

export const query: NexmarkQuery = (events) =>
  bids(events)
    .keyBy((b) => b.bidder)
    .process({
      state: { s: valueState<Sessions>() },
      processElement(b, ctx) {
        const t = b.dateTime;
        const open = ctx.state.s.value();
        let start = t;
        let last = t;
        let count = 1;
        let merged = false;
        const rest: number[] = [];
        if (open !== undefined) {
          for (let i = 0; i < open.length; i += 3) {
            const s = open[i] as number;
            const l = open[i + 1] as number;
            if (s <= t + GAP && l + GAP >= t) {
              if (s < start) start = s;
              if (l > last) last = l;
              count += open[i + 2] as number;
              merged = true;
            } else rest.push(s, l, open[i + 2] as number);
          }
        }
        if (!merged) {
          if (t + GAP - 1 <= ctx.timers.currentWatermark()) return; // too late for any session
          ctx.timers.registerEventTimeTimer(t + GAP - 1);
        }
        rest.push(start, last, count);
        ctx.state.s.update(rest);
      },
      onTimer(time, ctx) {
        const open = ctx.state.s.value();
        if (open === undefined) return;
        const rest: number[] = [];
        for (let i = 0; i < open.length; i += 3) {
          const start = open[i] as number;
          const last = open[i + 1] as number;
          const count = open[i + 2] as number;
          if (last + GAP - 1 <= time) {
            ctx.emit({ bidder: ctx.key, bid_count: count, starttime: start, endtime: last + GAP });
          } else {
            rest.push(start, last, count);
            ctx.timers.registerEventTimeTimer(last + GAP - 1);
          }
        }
        if (rest.length === 0) ctx.state.s.clear();
        else if (rest.length !== open.length) ctx.state.s.update(rest);
      },
    });

export default nexmarkJob("nexmark-q11", query, { events: 100_000 });
