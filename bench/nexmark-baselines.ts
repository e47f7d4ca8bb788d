/**
 * Hand-written single-loop baselines of the Nexmark queries: no engine, no state
 * backend, no serialization, just the query's logic over the generated events in
 * one JavaScript loop with plain Maps, emitting rows where the query would. They
 * rely on the generator's events arriving in event-time order (so no watermark
 * logic, nothing late), which makes them a floor of the work a query must do.
 * Each reports its row count, which should equal riffle's (q12 depends on the
 * wall clock, so it may differ).
 */

import type { Auction, Bid, NexmarkEvent } from "../core/nexmark/model.ts";

/** One baseline run: `add` every event (with its id), then `finish` returns the number of rows. */
export interface Baseline {
  add(e: NexmarkEvent, id: number): void;
  finish(): number;
}

const DAY = 86_400_000;
const win = (t: number, size: number) => t - (((t % size) + size) % size);

/** A stream query: `f` returns the row of an event, or undefined; rows are counted (the last one kept). */
function stream(f: (e: NexmarkEvent) => object | undefined): () => Baseline {
  return () => {
    let rows = 0;
    let last: object | undefined;
    return {
      add: (e) => {
        const row = f(e);
        if (row !== undefined) {
          rows++;
          last = row;
        }
      },
      finish: () => (last === undefined ? 0 : rows),
    };
  };
}

const timeType = (ms: number) => {
  const h = new Date(ms).getUTCHours();
  return h >= 8 && h <= 18 ? "dayTime" : h <= 6 || h >= 20 ? "nightTime" : "otherTime";
};
const countC = (s: string) => {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 99) n++;
  return n;
};

type BidI = Bid & { id: number };

/** Baselines by query name. */
export const BASELINES: Record<string, () => Baseline> = {
  q0: stream((e) =>
    e.type === "bid"
      ? { auction: e.auction, bidder: e.bidder, price: e.price, dateTime: e.dateTime, extra: e.extra }
      : undefined,
  ),
  q1: stream((e) =>
    e.type === "bid"
      ? { auction: e.auction, bidder: e.bidder, price: (e.price * 908) / 1000, dateTime: e.dateTime, extra: e.extra }
      : undefined,
  ),
  q2: stream((e) => (e.type === "bid" && e.auction % 123 === 0 ? { auction: e.auction, price: e.price } : undefined)),
  q14: stream((e) =>
    e.type === "bid" && e.price * 908 > 1_000_000_000 && e.price * 908 < 50_000_000_000
      ? {
          auction: e.auction,
          bidder: e.bidder,
          price: (e.price * 908) / 1000,
          bidTimeType: timeType(e.dateTime),
          dateTime: e.dateTime,
          extra: e.extra,
          c_counts: countC(e.extra),
        }
      : undefined,
  ),
  q3: () => {
    const STATES = new Set(["OR", "ID", "CA"]);
    const people = new Map<number, boolean>();
    const waiting = new Map<number, number>();
    let rows = 0;
    return {
      add(e) {
        if (e.type === "auction" && e.category === 10) {
          const p = people.get(e.seller);
          if (p === undefined) waiting.set(e.seller, (waiting.get(e.seller) ?? 0) + 1);
          else if (p) rows++;
        } else if (e.type === "person") {
          const ok = STATES.has(e.state);
          people.set(e.id, ok);
          if (ok) rows += waiting.get(e.id) ?? 0;
          waiting.delete(e.id);
        }
      },
      finish: () => rows,
    };
  },
  q4: () => {
    const auctions = new Map<number, { a: Auction; max: number }>();
    const early = new Map<number, Bid[]>();
    return {
      add(e) {
        if (e.type === "auction") {
          const s = { a: e as Auction, max: -1 };
          for (const b of early.get(e.id) ?? []) {
            if (b.dateTime >= e.dateTime && b.dateTime <= e.expires && b.price > s.max) s.max = b.price;
          }
          early.delete(e.id);
          auctions.set(e.id, s);
        } else if (e.type === "bid") {
          const s = auctions.get(e.auction);
          if (s === undefined) early.set(e.auction, [...(early.get(e.auction) ?? []), e]);
          else if (e.dateTime >= s.a.dateTime && e.dateTime <= s.a.expires && e.price > s.max) s.max = e.price;
        }
      },
      finish() {
        const cats = new Map<number, [number, number]>();
        for (const { a, max } of auctions.values()) {
          if (max < 0) continue;
          const c = cats.get(a.category) ?? [0, 0];
          cats.set(a.category, [c[0] + max, c[1] + 1]);
        }
        return cats.size;
      },
    };
  },
  q5: () => {
    const panes = new Map<number, Map<number, number>>();
    return {
      add(e) {
        if (e.type !== "bid") return;
        const p = win(e.dateTime, 2000);
        let m = panes.get(p);
        if (!m) {
          m = new Map();
          panes.set(p, m);
        }
        m.set(e.auction, (m.get(e.auction) ?? 0) + 1);
      },
      finish() {
        let rows = 0;
        const starts = new Set<number>();
        for (const p of panes.keys()) for (let s = p - 8000; s <= p; s += 2000) starts.add(s);
        for (const s of starts) {
          const counts = new Map<number, number>();
          for (let p = s; p < s + 10_000; p += 2000) {
            for (const [a, n] of panes.get(p) ?? []) counts.set(a, (counts.get(a) ?? 0) + n);
          }
          let max = 0;
          let tied = 0;
          for (const n of counts.values()) {
            if (n > max) {
              max = n;
              tied = 1;
            } else if (n === max) tied++;
          }
          rows += tied;
        }
        return rows;
      },
    };
  },
  q7: () => {
    const tops = new Map<number, { max: number; n: number }>();
    const edges = new Map<number, number[]>();
    return {
      add(e) {
        if (e.type !== "bid") return;
        const w = win(e.dateTime, 10_000);
        if (w === e.dateTime) edges.set(w - 10_000, [...(edges.get(w - 10_000) ?? []), e.price]);
        const t = tops.get(w);
        if (t === undefined) tops.set(w, { max: e.price, n: 1 });
        else if (e.price > t.max) tops.set(w, { max: e.price, n: 1 });
        else if (e.price === t.max) t.n++;
      },
      finish() {
        let rows = 0;
        for (const [w, t] of tops) rows += t.n + (edges.get(w) ?? []).filter((p) => p === t.max).length;
        return rows;
      },
    };
  },
  q8: () => {
    const slots = new Map<string, string | 1 | 0>();
    let rows = 0;
    return {
      add(e) {
        if (e.type === "bid") return;
        const k = `${e.type === "auction" ? e.seller : e.id}|${win(e.dateTime, 10_000)}`;
        const s = slots.get(k);
        if (s === 0) return;
        if (e.type === "person") {
          if (s === 1) {
            rows++;
            slots.set(k, 0);
          } else slots.set(k, e.name);
        } else if (s === undefined) slots.set(k, 1);
        else if (s !== 1) {
          rows++;
          slots.set(k, 0);
        }
      },
      finish: () => rows,
    };
  },
  q9: () => {
    const auctions = new Map<number, { a: Auction; best: BidI | undefined }>();
    const early = new Map<number, BidI[]>();
    const beats = (b: BidI, w: BidI | undefined) =>
      w === undefined ||
      b.price > w.price ||
      (b.price === w.price && (b.dateTime < w.dateTime || (b.dateTime === w.dateTime && b.id < w.id)));
    return {
      add(e, id) {
        if (e.type === "auction") {
          const s: { a: Auction; best: BidI | undefined } = { a: e, best: undefined };
          for (const b of early.get(e.id) ?? []) {
            if (b.dateTime >= e.dateTime && b.dateTime <= e.expires && beats(b, s.best)) s.best = b;
          }
          early.delete(e.id);
          auctions.set(e.id, s);
        } else if (e.type === "bid") {
          const b = { ...e, id };
          const s = auctions.get(e.auction);
          if (s === undefined) early.set(e.auction, [...(early.get(e.auction) ?? []), b]);
          else if (e.dateTime >= s.a.dateTime && e.dateTime <= s.a.expires && beats(b, s.best)) s.best = b;
        }
      },
      finish: () => [...auctions.values()].filter((s) => s.best !== undefined).length,
    };
  },
  q11: () => {
    const open = new Map<number, { start: number; last: number; n: number }>();
    let rows = 0;
    return {
      add(e) {
        if (e.type !== "bid") return;
        const s = open.get(e.bidder);
        if (s !== undefined && e.dateTime - s.last <= 10_000) {
          s.last = e.dateTime;
          s.n++;
        } else {
          if (s !== undefined) rows++;
          open.set(e.bidder, { start: e.dateTime, last: e.dateTime, n: 1 });
        }
      },
      finish: () => rows + open.size,
    };
  },
  q12: () => {
    const counts = new Map<string, number>();
    return {
      add(e) {
        if (e.type !== "bid") return;
        const k = `${e.bidder}|${win(Date.now(), 10_000)}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      },
      finish: () => counts.size,
    };
  },
  q15: () => {
    const days = new Map<number, { bids: number[]; bidders: Map<number, number>; auctions: Map<number, number> }>();
    return {
      add(e) {
        if (e.type !== "bid") return;
        const d = Math.floor(e.dateTime / DAY);
        let s = days.get(d);
        if (!s) {
          s = { bids: [0, 0, 0, 0], bidders: new Map(), auctions: new Map() };
          days.set(d, s);
        }
        const band = e.price < 10_000 ? 1 : e.price < 1_000_000 ? 2 : 3;
        s.bids[0] = (s.bids[0] as number) + 1;
        s.bids[band] = (s.bids[band] as number) + 1;
        s.bidders.set(e.bidder, (s.bidders.get(e.bidder) ?? 0) | (1 << band));
        s.auctions.set(e.auction, (s.auctions.get(e.auction) ?? 0) | (1 << band));
      },
      finish: () => days.size,
    };
  },
  q17: () => {
    const m = new Map<string, [number, number, number, number]>();
    return {
      add(e) {
        if (e.type !== "bid") return;
        const k = `${e.auction}|${Math.floor(e.dateTime / DAY)}`;
        const s = m.get(k);
        if (s === undefined) m.set(k, [1, e.price, e.price, e.price]);
        else {
          s[0]++;
          s[1] = Math.min(s[1], e.price);
          s[2] = Math.max(s[2], e.price);
          s[3] += e.price;
        }
      },
      finish: () => m.size,
    };
  },
  q18: () => {
    const m = new Map<string, NexmarkEvent>();
    return {
      add(e) {
        if (e.type === "bid") m.set(`${e.bidder}|${e.auction}`, e);
      },
      finish: () => m.size,
    };
  },
  q19: () => {
    const tops = new Map<number, BidI[]>();
    const before = (a: BidI, b: BidI) => a.price > b.price || (a.price === b.price && a.id < b.id);
    return {
      add(e, id) {
        if (e.type !== "bid") return;
        const b = { ...e, id };
        const top = tops.get(e.auction);
        if (top === undefined) {
          tops.set(e.auction, [b]);
          return;
        }
        if (top.length === 10 && !before(b, top[9] as BidI)) return;
        let i = top.length;
        while (i > 0 && before(b, top[i - 1] as BidI)) i--;
        top.splice(i, 0, b);
        if (top.length > 10) top.pop();
      },
      finish: () => [...tops.values()].reduce((n, t) => n + t.length, 0),
    };
  },
};
