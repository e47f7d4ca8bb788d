// The nexmark generator follows the rules of NEXMARK.md.

import { describe, expect, it } from "vitest";
import { nexmarkEvent, nexmarkEventType } from "../../core/nexmark/generator.ts";
import {
  type Auction,
  type Bid,
  type NexmarkConfig,
  type NexmarkEvent,
  nexmarkConfig,
  type Person,
} from "../../core/nexmark/model.ts";
import {
  NEXMARK_CITIES,
  NEXMARK_FIRST_NAMES,
  NEXMARK_HOT_CHANNELS,
  NEXMARK_HOT_URLS,
  NEXMARK_LAST_NAMES,
  NEXMARK_STATES,
} from "../../core/nexmark/vocabulary.ts";
import { BASE, events } from "./nexmark-generator-helpers.ts";

/** Index of the last person created at or before event e (spec formula). */
const lastPerson = (e: number) => Math.floor(e / 50);
/** Index of the last auction created at or before event e (spec formula). */
const lastAuction = (e: number) => 3 * Math.floor(e / 50) + Math.min(e % 50, 3) - 1;

/** Events of one kind with their event ids. */
function ofType<K extends NexmarkEvent["type"]>(
  n: number,
  config: NexmarkConfig,
  type: K,
): { e: number; ev: Extract<NexmarkEvent, { type: K }> }[] {
  const out: { e: number; ev: Extract<NexmarkEvent, { type: K }> }[] = [];
  for (let e = 0; e < n; e++) {
    const ev = nexmarkEvent(e, config);
    if (ev.type === type) out.push({ e, ev: ev as Extract<NexmarkEvent, { type: K }> });
  }
  return out;
}

describe("nexmark generator: the rules of NEXMARK.md", () => {
  const config = nexmarkConfig({ seed: 99 });

  it("kinds by e % 50: exactly 2% / 6% / 92%", () => {
    const all = events(1000, config);
    const count = (t: string) => all.filter((ev) => ev.type === t).length;
    expect([count("person"), count("auction"), count("bid")]).toEqual([20, 60, 920]);
    for (let e = 0; e < 1000; e++) {
      const expected = e % 50 === 0 ? "person" : e % 50 <= 3 ? "auction" : "bid";
      expect(all[e]?.type).toBe(expected);
    }
  });

  it("nexmarkEventType agrees with the generated events", () => {
    for (let e = 0; e < 500; e++) expect(nexmarkEventType(e)).toBe(nexmarkEvent(e, config).type);
  });

  it("event time = base + floor(e × interEventDelayUs / 1000)", () => {
    expect(nexmarkEvent(0, config).dateTime).toBe(BASE);
    for (const e of [1, 9, 10, 11, 12_345, 999_999]) {
      expect(nexmarkEvent(e, config).dateTime).toBe(BASE + Math.floor(e / 10));
    }
    // 1M events span 100 s at the default rate.
    expect(nexmarkEvent(1_000_000, config).dateTime - BASE).toBe(100_000);
    const slow = nexmarkConfig({ seed: 1, rate: 3, baseTime: 5 });
    for (const e of [0, 1, 2, 3, 4, 299]) {
      expect(nexmarkEvent(e, slow).dateTime).toBe(5 + Math.floor((e * (1e6 / 3)) / 1000));
    }
    expect(nexmarkEvent(3, slow).dateTime).toBe(5 + 1000);
  });

  it("person and auction ids count up from 1000 in creation order", () => {
    const people = ofType(20_000, config, "person");
    expect(people[0]?.ev.id).toBe(1000);
    expect(people.map((p) => p.ev.id)).toEqual(people.map((_, i) => 1000 + i));
    const auctions = ofType(20_000, config, "auction");
    expect(auctions[0]?.e).toBe(1);
    expect(auctions[0]?.ev.id).toBe(1000);
    expect(auctions.map((a) => a.ev.id)).toEqual(auctions.map((_, i) => 1000 + i));
    for (const { e, ev } of auctions) expect(ev.id).toBe(1000 + lastAuction(e));
  });

  it("categories are 10..14, all used", () => {
    const seen = new Set(ofType(5_000, config, "auction").map((a) => a.ev.category));
    expect([...seen].sort()).toEqual([10, 11, 12, 13, 14]);
  });

  it("sellers and bidders are hot or in the active-people window (+10 lead)", () => {
    const n = 200_000;
    for (const { e, ev } of ofType(n, config, "auction")) {
      const last = lastPerson(e);
      const index = ev.seller - 1000;
      const lo = last + 1 - Math.min(last + 1, 1000);
      const hot = Math.floor(last / 100) * 100;
      expect(index === hot || (index >= lo && index <= last + 10)).toBe(true);
    }
    let beyondLast = 0;
    for (const { e, ev } of ofType(n, config, "bid")) {
      const last = lastPerson(e);
      const index = ev.bidder - 1000;
      const lo = last + 1 - Math.min(last + 1, 1000);
      const hot = Math.floor(last / 100) * 100 + 1;
      expect(index === hot || (index >= lo && index <= last + 10)).toBe(true);
      if (index > last && index !== hot) beyondLast++;
    }
    // The lead may name people not yet created (intended): it happens, but rarely.
    expect(beyondLast).toBeGreaterThan(0);
  });

  it("bid auctions are hot or in [max(last − 100, 0), last + 11)", () => {
    let early = 0;
    for (const { e, ev } of ofType(200_000, config, "bid")) {
      const last = lastAuction(e);
      const index = ev.auction - 1000;
      const hot = Math.floor(last / 100) * 100;
      expect(index === hot || (index >= Math.max(last - 100, 0) && index < last + 11)).toBe(true);
      if (index < last - 90 && index !== hot) early++;
    }
    expect(early).toBeGreaterThan(0);
  });

  it("hot shares: bidder ≈ 3/4, auction ≈ 1/2, seller ≈ 3/4", () => {
    const bids = ofType(10_900, config, "bid").slice(0, 10_000);
    expect(bids).toHaveLength(10_000);
    const hotBidder = bids.filter(({ e, ev }) => ev.bidder === 1000 + Math.floor(lastPerson(e) / 100) * 100 + 1);
    expect(hotBidder.length / bids.length).toBeGreaterThan(0.73);
    expect(hotBidder.length / bids.length).toBeLessThan(0.78);
    const hotAuction = bids.filter(({ e, ev }) => ev.auction === 1000 + Math.floor(lastAuction(e) / 100) * 100);
    expect(hotAuction.length / bids.length).toBeGreaterThan(0.48);
    expect(hotAuction.length / bids.length).toBeLessThan(0.54);
    const auctions = ofType(170_000, config, "auction").slice(0, 10_000);
    const hotSeller = auctions.filter(({ e, ev }) => ev.seller === 1000 + Math.floor(lastPerson(e) / 100) * 100);
    expect(hotSeller.length / auctions.length).toBeGreaterThan(0.73);
    expect(hotSeller.length / auctions.length).toBeLessThan(0.78);
  });

  it("prices are integers in 100 … 1e8, log-uniform; reserve = initial bid + a price", () => {
    const prices: number[] = [];
    for (const { ev } of ofType(50_000, config, "bid")) prices.push(ev.price);
    for (const { ev } of ofType(50_000, config, "auction")) {
      prices.push(ev.initialBid);
      expect(ev.reserve - ev.initialBid).toBeGreaterThanOrEqual(100);
      expect(ev.reserve - ev.initialBid).toBeLessThanOrEqual(1e8);
    }
    for (const p of prices) {
      expect(Number.isInteger(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(100);
      expect(p).toBeLessThanOrEqual(1e8);
    }
    // log10(p / 100) / 6 is uniform: half the prices are below 1e5 cents, a sixth below 1e3.
    const below = (x: number) => prices.filter((p) => p < x).length / prices.length;
    expect(below(1e5)).toBeGreaterThan(0.47);
    expect(below(1e5)).toBeLessThan(0.53);
    expect(below(1e3)).toBeGreaterThan(0.14);
    expect(below(1e3)).toBeLessThan(0.19);
  });

  it("auctions expire 1 … 2h after they start, h = the span of 1,666 events", () => {
    let maxLife = 0;
    for (const { ev } of ofType(100_000, config, "auction")) {
      const life = ev.expires - ev.dateTime;
      expect(life).toBeGreaterThanOrEqual(1);
      expect(life).toBeLessThanOrEqual(2 * 166);
      maxLife = Math.max(maxLife, life);
    }
    expect(maxLife).toBeGreaterThan(320);
    const slow = nexmarkConfig({ seed: 1, rate: 100 });
    for (const { ev } of ofType(5_000, slow, "auction")) {
      expect(ev.expires - ev.dateTime).toBeLessThanOrEqual(2 * 16_660);
    }
  });

  it("strings: lengths, alphabet, trimming, email, credit card, lists", () => {
    const fullNames = new Set(NEXMARK_FIRST_NAMES.flatMap((f) => NEXMARK_LAST_NAMES.map((l) => `${f} ${l}`)));
    const cities = new Set<string>();
    const states = new Set<string>();
    for (const { ev } of ofType(50_000, config, "person")) {
      const p: Person = ev;
      expect(fullNames.has(p.name)).toBe(true);
      expect(p.emailAddress).toMatch(/^[a-z]{7}@[a-z]{5}\.com$/);
      expect(p.creditCard).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      expect(NEXMARK_CITIES).toContain(p.city);
      expect(NEXMARK_STATES).toContain(p.state);
      cities.add(p.city);
      states.add(p.state);
    }
    expect(cities.size).toBe(10);
    expect(states.size).toBe(6);
    let longest = 0;
    let withSpace = 0;
    for (const { ev } of ofType(50_000, config, "auction")) {
      const a: Auction = ev;
      expect(a.itemName.length).toBeLessThanOrEqual(19);
      expect(a.description.length).toBeLessThanOrEqual(99);
      for (const s of [a.itemName, a.description]) {
        expect(s).toMatch(/^[a-z ]*$/);
        expect(s).toBe(s.trim());
        if (s.includes(" ")) withSpace++;
      }
      longest = Math.max(longest, a.description.length);
    }
    expect(longest).toBeGreaterThan(95);
    expect(withSpace).toBeGreaterThan(0);
    // Space share ≈ 1/13 of the inner characters.
    const text = ofType(20_000, config, "auction")
      .map(({ ev }) => ev.description)
      .join("");
    const spaces = [...text].filter((c) => c === " ").length;
    expect(spaces / text.length).toBeGreaterThan(0.06);
    expect(spaces / text.length).toBeLessThan(0.085);
  });

  it("channels: half hot with fixed urls, the rest channel-i (i < 10000) with a url naming i", () => {
    const bids = ofType(20_000, config, "bid").map(({ ev }) => ev as Bid);
    let hot = 0;
    for (const b of bids) {
      const h = NEXMARK_HOT_CHANNELS.indexOf(b.channel);
      if (h >= 0) {
        hot++;
        expect(b.url).toBe(NEXMARK_HOT_URLS[h]);
      } else {
        const m = /^channel-(\d+)$/.exec(b.channel);
        expect(m).not.toBeNull();
        const i = Number(m?.[1]);
        expect(i).toBeLessThan(10_000);
        expect(b.url).toContain(`channel-${i}/`);
        expect(b.url.endsWith(`channel_id=${i}`)).toBe(true);
      }
    }
    expect(hot / bids.length).toBeGreaterThan(0.47);
    expect(hot / bids.length).toBeLessThan(0.53);
    expect(new Set(bids.map((b) => b.channel)).size).toBeGreaterThan(5_000);
  });

  it("extra pads toward the average sizes: ±20% of (average − JSON size without extra)", () => {
    const averages = { person: 200, auction: 500, bid: 100 };
    const sums = {
      person: { extra: 0, target: 0, n: 0 },
      auction: { extra: 0, target: 0, n: 0 },
      bid: { extra: 0, target: 0, n: 0 },
    };
    for (let e = 0; e < 10_000; e++) {
      const ev = nexmarkEvent(e, config);
      const { extra, ...rest } = ev;
      const target = Math.max(0, averages[ev.type] - JSON.stringify(rest).length);
      const delta = Math.round(target * 0.2);
      expect(extra).toMatch(/^[a-z]*$/);
      if (target === 0) expect(extra).toBe("");
      else {
        expect(extra.length).toBeGreaterThanOrEqual(target - delta);
        expect(extra.length).toBeLessThanOrEqual(Math.max(target - delta, target + delta - 1));
      }
      const s = sums[ev.type];
      s.extra += extra.length;
      s.target += target;
      s.n++;
    }
    // Sizes spread over ±20% of the target, not just the target itself.
    const ratios = ofType(10_000, config, "auction").map(({ ev }) => {
      const { extra, ...rest } = ev;
      return extra.length / (500 - JSON.stringify(rest).length);
    });
    expect(Math.min(...ratios)).toBeLessThan(0.82);
    expect(Math.max(...ratios)).toBeGreaterThan(1.18);
    expect(Math.min(...ratios)).toBeGreaterThanOrEqual(0.79);
    expect(Math.max(...ratios)).toBeLessThan(1.21);
    for (const kind of ["person", "auction"] as const) {
      const s = sums[kind];
      expect(s.target).toBeGreaterThan(0);
      expect(Math.abs(s.extra - s.target) / s.target).toBeLessThan(0.2);
    }
    // A bid's JSON (with its url) already exceeds 100 bytes: no padding.
    expect(sums.bid.target).toBe(0);
    expect(sums.bid.extra).toBe(0);
    // Whole people and auctions average their target sizes within 20%.
    const sizes = (type: "person" | "auction") => {
      const all = ofType(10_000, config, type).map(({ ev }) => JSON.stringify(ev).length);
      return all.reduce((x, y) => x + y, 0) / all.length;
    };
    expect(Math.abs(sizes("person") - 200) / 200).toBeLessThan(0.2);
    expect(Math.abs(sizes("auction") - 500) / 500).toBeLessThan(0.2);
  });
});
