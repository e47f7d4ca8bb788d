/**
 * Nexmark q4: average closing price per category — for each auction the highest bid
 * placed within its life (auction.dateTime <= bid.dateTime <= auction.expires, both
 * inclusive), then per category the average of those maxima as BIGINT (sum / count
 * truncated toward zero, as Flink's AVG over BIGINT).
 *
 * Final table: stage 1 (keyed by auction id) keeps the auction and its running maximum
 * and emits one row per auction with a qualifying bid at end of input; stage 2 (keyed by
 * category) sums them and emits one row per category at its own end of input.
 */
import { valueState } from "riffle";
import { END_OF_INPUT, type Event, type NexmarkQuery, nexmarkJob, truncDiv } from "./lib.ts";

type Life = { readonly start: number; readonly end: number; readonly category: number };
type Closing = { readonly category: number; readonly final: number };

const perAuction = {
  life: valueState<Life>(),
  max: valueState<number>(),
  /** Bids [dateTime, price] that arrived before their auction. */
  early: valueState<readonly (readonly [number, number])[]>(),
};

export const query: NexmarkQuery = (events) =>
  events
    .filter((e) => e.type === "bid" || e.type === "auction")
    .keyBy((e: Event) => (e.type === "bid" ? e.auction : (e as { id: number }).id))
    .process<Closing, typeof perAuction>({
      state: perAuction,
      processElement(e, ctx) {
        const st = ctx.state;
        if (e.type === "bid") {
          const life = st.life.value();
          if (life === undefined) {
            st.early.update([...(st.early.value() ?? []), [e.dateTime, e.price]]);
          } else if (e.dateTime >= life.start && e.dateTime <= life.end) {
            const max = st.max.value();
            if (max === undefined || e.price > max) st.max.update(e.price);
          }
        } else if (e.type === "auction") {
          st.life.update({ start: e.dateTime, end: e.expires, category: e.category });
          const early = st.early.value();
          if (early !== undefined) {
            let max: number | undefined;
            for (const [t, price] of early) {
              if (t >= e.dateTime && t <= e.expires && (max === undefined || price > max)) max = price;
            }
            if (max !== undefined) st.max.update(max);
            st.early.clear();
          }
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        }
      },
      onTimer(_t, ctx) {
        const life = ctx.state.life.value();
        const max = ctx.state.max.value();
        if (life !== undefined && max !== undefined) ctx.emit({ category: life.category, final: max });
      },
    })
    .keyBy((c) => c.category)
    .process({
      state: { acc: valueState<readonly [sum: number, count: number]>() },
      processElement(c, ctx) {
        const acc = ctx.state.acc.value();
        if (acc === undefined) ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        ctx.state.acc.update(acc === undefined ? [c.final, 1] : [acc[0] + c.final, acc[1] + 1]);
      },
      onTimer(_t, ctx) {
        const acc = ctx.state.acc.value();
        if (acc !== undefined) ctx.emit({ category: ctx.key, final: truncDiv(acc[0], acc[1]) });
      },
    });

export default nexmarkJob("nexmark-q4", query, { events: 100_000 });
