/**
 * Nexmark q15: per UTC day, bid counts and distinct bidders / auctions, overall and by price
 * band (rank1 price < 10000, rank2 10000 <= price < 1000000, rank3 price >= 1000000).
 *
 * Final table, with distinct counts split by key (as Flink's split-distinct optimization):
 * stage A, keyed by (day, bidder), counts the bidder's bids per band; stage B, keyed by
 * (day, auction), notes which bands the auction was bid in. At end of input each emits one
 * partial row per key, and stage C, keyed by day, adds them up: a bidder counts once
 * overall and once in each band it has bids in, likewise an auction.
 */
import { valueState } from "riffle";
import { bids, END_OF_INPUT, type NexmarkQuery, nexmarkJob } from "./lib.ts";

const DAY = 86_400_000;
const dayOf = (t: number) => Math.floor(t / DAY);
const band = (price: number) => (price < 10_000 ? 0 : price < 1_000_000 ? 1 : 2);

type Bands = readonly [number, number, number];
/** A partial row of one day: a bidder's bid counts per band (who 0) or an auction's bands, 0/1 (who 1). */
type Part = { readonly day: number; readonly who: 0 | 1; readonly r: Bands };
/** Running totals of one day, in the order of the output columns. */
type Totals = readonly number[];

const COLUMNS = [
  "total_bids",
  "rank1_bids",
  "rank2_bids",
  "rank3_bids",
  "total_bidders",
  "rank1_bidders",
  "rank2_bidders",
  "rank3_bidders",
  "total_auctions",
  "rank1_auctions",
  "rank2_auctions",
  "rank3_auctions",
] as const;

/** Bid counts per band of one (day, bidder). */
const perBidder = { n: valueState<Bands>() };
/** Bands (bit i = band i) one (day, auction) was bid in. */
const perAuction = { bits: valueState<number>() };

export const query: NexmarkQuery = (events) => {
  const bs = bids(events);
  const bidders = bs
    .keyBy((b) => [dayOf(b.dateTime), b.bidder])
    .process<Part, typeof perBidder>({
      state: perBidder,
      processElement(b, ctx) {
        const n = ctx.state.n.value();
        const i = band(b.price);
        if (n === undefined) {
          ctx.state.n.update([i === 0 ? 1 : 0, i === 1 ? 1 : 0, i === 2 ? 1 : 0]);
          ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        } else ctx.state.n.update([n[0] + (i === 0 ? 1 : 0), n[1] + (i === 1 ? 1 : 0), n[2] + (i === 2 ? 1 : 0)]);
      },
      onTimer(_t, ctx) {
        const n = ctx.state.n.value();
        if (n !== undefined) ctx.emit({ day: (ctx.key as readonly number[])[0] as number, who: 0, r: n });
      },
    });
  const auctions = bs
    .keyBy((b) => [dayOf(b.dateTime), b.auction])
    .process<Part, typeof perAuction>({
      state: perAuction,
      processElement(b, ctx) {
        const bits = ctx.state.bits.value();
        const next = (bits ?? 0) | (1 << band(b.price));
        if (bits === undefined) ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        if (next !== bits) ctx.state.bits.update(next);
      },
      onTimer(_t, ctx) {
        const bits = ctx.state.bits.value();
        if (bits !== undefined)
          ctx.emit({
            day: (ctx.key as readonly number[])[0] as number,
            who: 1,
            r: [bits & 1, (bits >> 1) & 1, (bits >> 2) & 1],
          });
      },
    });
  return bidders
    .union(auctions)
    .keyBy((p) => p.day)
    .process({
      state: { t: valueState<Totals>() },
      processElement(p, ctx) {
        const prev = ctx.state.t.value();
        if (prev === undefined) ctx.timers.registerEventTimeTimer(END_OF_INPUT);
        const t = prev === undefined ? new Array<number>(12).fill(0) : [...prev];
        const [r1, r2, r3] = p.r;
        if (p.who === 0) {
          t[0] = (t[0] as number) + r1 + r2 + r3;
          t[1] = (t[1] as number) + r1;
          t[2] = (t[2] as number) + r2;
          t[3] = (t[3] as number) + r3;
          t[4] = (t[4] as number) + 1;
          t[5] = (t[5] as number) + (r1 > 0 ? 1 : 0);
          t[6] = (t[6] as number) + (r2 > 0 ? 1 : 0);
          t[7] = (t[7] as number) + (r3 > 0 ? 1 : 0);
        } else {
          t[8] = (t[8] as number) + 1;
          t[9] = (t[9] as number) + r1;
          t[10] = (t[10] as number) + r2;
          t[11] = (t[11] as number) + r3;
        }
        ctx.state.t.update(t);
      },
      onTimer(_t, ctx) {
        const t = ctx.state.t.value();
        if (t === undefined) return;
        const row: Record<string, unknown> = { day: new Date((ctx.key as number) * DAY).toISOString().slice(0, 10) };
        COLUMNS.forEach((c, i) => {
          row[c] = t[i];
        });
        ctx.emit(row);
      },
    });
};

export default nexmarkJob("nexmark-q15", query, { events: 100_000 });
