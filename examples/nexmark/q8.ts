/**
 * Nexmark q8: monitor new users — people who created an auction in the same tumbling 10 s
 * window [s, s + 10000) in which they registered, as (id, name, starttime).
 *
 * People and auctions travel as one stream keyed by (person id, window start). Person ids
 * are unique, so each key emits at most one row: when both its person and an auction have
 * arrived, in whichever order and however late (the rows never depend on the watermark).
 */
import { valueState } from "riffle";
import { type Event, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const SIZE = 10_000;
const windowOf = (t: number) => t - (((t % SIZE) + SIZE) % SIZE);

/** The person's name (no auction yet), AUCTION (an auction, no person yet) or DONE (emitted). */
type Slot = { readonly name: string } | typeof AUCTION | typeof DONE;
const AUCTION = 1;
const DONE = 0;

export const query: NexmarkQuery = (events) =>
  events
    .filter((e) => e.type === "person" || e.type === "auction")
    .keyBy((e: Event) => [e.type === "auction" ? e.seller : (e as { id: number }).id, windowOf(e.dateTime)])
    .process({
      state: { s: valueState<Slot>() },
      processElement(e, ctx) {
        const s = ctx.state.s.value();
        if (s === DONE) return;
        const start = windowOf(e.dateTime);
        if (e.type === "person") {
          if (s === AUCTION) {
            ctx.emit({ id: e.id, name: e.name, starttime: start });
            ctx.state.s.update(DONE);
          } else ctx.state.s.update({ name: e.name });
        } else if (s === undefined) ctx.state.s.update(AUCTION);
        else if (s !== AUCTION) {
          ctx.emit({ id: (e as { seller: number }).seller, name: s.name, starttime: start });
          ctx.state.s.update(DONE);
        }
      },
    });

export default nexmarkJob("nexmark-q8", query, { events: 100_000 });
