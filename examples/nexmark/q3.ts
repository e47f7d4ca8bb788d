/**
 * Nexmark q3: local item suggestion — auctions of category 10 joined with their sellers
 * in OR, ID or CA (an unbounded inner join on seller = person id).
 *
 * Both inputs are insert-only and person ids are unique, so the join's final table is
 * produced incrementally: each matching (auction, person) pair is emitted once, when the
 * later of the two arrives; rows are never retracted. Auctions and people travel as one
 * stream keyed by person id (auction.seller / person.id).
 */
import { valueState } from "riffle";
import type { Event, NexmarkQuery } from "./lib.ts";
import { nexmarkJob } from "./lib.ts";

type Seller = { readonly name: string; readonly city: string; readonly state: string };
/** Per person id: the person once seen (null when not in OR/ID/CA), or the auction ids waiting for them. */
type Slot = { readonly p: Seller | null } | { readonly wait: readonly number[] };

const STATES = new Set(["OR", "ID", "CA"]);

export const query: NexmarkQuery = (events) =>
  events
    .filter((e) => e.type === "person" || (e.type === "auction" && e.category === 10))
    .keyBy((e: Event) => (e.type === "auction" ? e.seller : (e as { id: number }).id))
    .process({
      state: { s: valueState<Slot>() },
      processElement(e, ctx) {
        const s = ctx.state.s.value();
        if (e.type === "auction") {
          if (s === undefined) ctx.state.s.update({ wait: [e.id] });
          else if ("wait" in s) ctx.state.s.update({ wait: [...s.wait, e.id] });
          else if (s.p !== null) ctx.emit({ name: s.p.name, city: s.p.city, state: s.p.state, id: e.id });
        } else if (e.type === "person") {
          const seller = STATES.has(e.state) ? { name: e.name, city: e.city, state: e.state } : null;
          if (seller !== null && s !== undefined && "wait" in s) {
            for (const id of s.wait) ctx.emit({ name: seller.name, city: seller.city, state: seller.state, id });
          }
          ctx.state.s.update({ p: seller });
        }
      },
    });

export default nexmarkJob("nexmark-q3", query, { events: 100_000 });
