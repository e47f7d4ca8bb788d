// The oracle's SQL for q9 to q19.

import { describe, expect, it } from "vitest";
import { runOracle } from "./duckdb-oracle.ts";
import { auction, bid, type Event, expectRows, HOUR, SECOND, sorted, T } from "./oracle-sql-helpers.ts";

describe("q9 winning bids", () => {
  it("picks the highest bid within [dateTime, expires], then the earliest time, then the earliest event", async () => {
    const a1 = auction({ id: 1, dateTime: T, expires: T + 10 * SECOND, extra: "a1" });
    const a2 = auction({ id: 2, dateTime: T, expires: T + 10 * SECOND, extra: "a2" });
    const a3 = auction({ id: 3, dateTime: T, expires: T + 10 * SECOND, extra: "a3" });
    const a4 = auction({ id: 4, dateTime: T, expires: T + 10 * SECOND, extra: "a4" });
    const events = [
      a1,
      a2,
      a3,
      a4,
      bid({ auction: 1, bidder: 1, price: 100, dateTime: T + 1 * SECOND }),
      bid({ auction: 1, bidder: 2, price: 300, dateTime: T + 3 * SECOND, extra: "later time" }),
      bid({ auction: 1, bidder: 3, price: 300, dateTime: T + 2 * SECOND, extra: "winner" }),
      bid({ auction: 1, bidder: 4, price: 500, dateTime: T + 10 * SECOND + 1 }), // after expires
      bid({ auction: 1, bidder: 5, price: 400, dateTime: T - 1 }), // before the auction
      bid({ auction: 2, bidder: 6, price: 200, dateTime: T + 4 * SECOND, extra: "first event" }),
      bid({ auction: 2, bidder: 7, price: 200, dateTime: T + 4 * SECOND, extra: "second event" }),
      bid({ auction: 3, bidder: 8, price: 10, dateTime: T + 10 * SECOND, extra: "at expires" }),
      bid({ auction: 3, bidder: 9, price: 999, dateTime: T + 10 * SECOND + 1 }),
      bid({ auction: 4, bidder: 10, price: 999, dateTime: T + 11 * SECOND }), // a4 has no valid bid
    ];
    const row = (a: Event, b: Event) => ({
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
    await expectRows("q9", events, [
      row(a1, { auction: 1, bidder: 3, price: 300, dateTime: T + 2 * SECOND, extra: "winner" }),
      row(a2, { auction: 2, bidder: 6, price: 200, dateTime: T + 4 * SECOND, extra: "first event" }),
      row(a3, { auction: 3, bidder: 8, price: 10, dateTime: T + 10 * SECOND, extra: "at expires" }),
    ]);
  });
});

describe("q11 user sessions", () => {
  it("splits a bidder's bids into sessions at gaps over 10 s; a gap of exactly 10 s still merges", async () => {
    const events = [
      bid({ bidder: 1, dateTime: T }),
      bid({ bidder: 2, dateTime: T + 1 * SECOND }),
      bid({ bidder: 1, dateTime: T + 5 * SECOND }),
      bid({ bidder: 1, dateTime: T + 15 * SECOND }), // exactly 10 s after the previous bid: same session
      bid({ bidder: 1, dateTime: T + 25 * SECOND + 1 }), // 10.001 s later: new session
      bid({ bidder: 2, dateTime: T + 22 * SECOND }), // 21 s later: new session
      bid({ bidder: 1, dateTime: T + 30 * SECOND }),
    ];
    await expectRows("q11", events, [
      { bidder: 1, bid_count: 3, starttime: T, endtime: T + 25 * SECOND },
      { bidder: 1, bid_count: 2, starttime: T + 25 * SECOND + 1, endtime: T + 40 * SECOND },
      { bidder: 2, bid_count: 1, starttime: T + 1 * SECOND, endtime: T + 11 * SECOND },
      { bidder: 2, bid_count: 1, starttime: T + 22 * SECOND, endtime: T + 32 * SECOND },
    ]);
  });

  it("merges sessions that a late bid bridges", async () => {
    const events = [
      bid({ bidder: 1, dateTime: T }),
      bid({ bidder: 1, dateTime: T + 10 * SECOND + 1 }), // 10.001 s later: a second session so far
      bid({ bidder: 1, dateTime: T + 6 * SECOND + 1 }), // 4 s late (within the watermark bound): bridges
    ];
    await expectRows("q11", events, [{ bidder: 1, bid_count: 3, starttime: T, endtime: T + 20 * SECOND + 1 }]);
  });
});

describe("q14 calculation", () => {
  it("filters on the converted price, buckets UTC hours and counts 'c' in extra", async () => {
    const at = (dateTime: number, extra = "") => bid({ price: 2_000_000, dateTime, extra });
    const events = [
      bid({ price: 1_101_321, dateTime: T + 8 * HOUR }), // 999999.468: filtered out
      bid({ price: 1_101_322, dateTime: T + 8 * HOUR }), // 1000000.376: kept
      bid({ price: 55_066_079, dateTime: T + 8 * HOUR }), // 49999999.732: kept
      bid({ price: 55_066_080, dateTime: T + 8 * HOUR }), // 50000000.64: filtered out
      at(T, "cacc c"), // hour 0
      at(T + 6 * HOUR + 59 * 60 * SECOND), // 06:59
      at(T + 7 * HOUR, "abc"), // 07:00
      at(T + 18 * HOUR + HOUR - 1), // 18:59:59.999
      at(T + 19 * HOUR), // 19:00
      at(T + 20 * HOUR, "CCC"), // 20:00, upper case does not count
    ];
    const row = (price: number, dateTime: number, bidTimeType: string, extra: string, c_counts: number) => ({
      auction: 1000,
      bidder: 2000,
      price,
      bidTimeType,
      dateTime,
      extra,
      c_counts,
    });
    await expectRows("q14", events, [
      row(1000000.376, T + 8 * HOUR, "dayTime", "", 0),
      row(49999999.732, T + 8 * HOUR, "dayTime", "", 0),
      row(1816000, T, "nightTime", "cacc c", 4),
      row(1816000, T + 6 * HOUR + 59 * 60 * SECOND, "nightTime", "", 0),
      row(1816000, T + 7 * HOUR, "otherTime", "abc", 1),
      row(1816000, T + 19 * HOUR - 1, "dayTime", "", 0),
      row(1816000, T + 19 * HOUR, "otherTime", "", 0),
      row(1816000, T + 20 * HOUR, "nightTime", "CCC", 0),
    ]);
  });
});

describe("q15 bidding statistics per day", () => {
  it("buckets by UTC day and counts bids, bidders and auctions per price band", async () => {
    const day = 24 * HOUR;
    const events = [
      bid({ bidder: 1, auction: 1, price: 9999, dateTime: T - 1 }), // 2015-07-14T23:59:59.999Z
      bid({ bidder: 1, auction: 1, price: 9999, dateTime: T }),
      bid({ bidder: 2, auction: 2, price: 10_000, dateTime: T + HOUR }),
      bid({ bidder: 3, auction: 3, price: 999_999, dateTime: T + 2 * HOUR }),
      bid({ bidder: 4, auction: 4, price: 1_000_000, dateTime: T + 3 * HOUR }),
      bid({ bidder: 5, auction: 3, price: 5_000_000, dateTime: T + 4 * HOUR }),
      bid({ bidder: 3, auction: 5, price: 50, dateTime: T + 5 * HOUR }),
      bid({ bidder: 1, auction: 1, price: 100, dateTime: T + day - 1 }),
      bid({ bidder: 6, auction: 6, price: 2_000_000, dateTime: T + day }), // 2015-07-16T00:00:00.000Z
    ];
    const counts = (day: string, c: number[]) => ({
      day,
      total_bids: c[0],
      rank1_bids: c[1],
      rank2_bids: c[2],
      rank3_bids: c[3],
      total_bidders: c[4],
      rank1_bidders: c[5],
      rank2_bidders: c[6],
      rank3_bidders: c[7],
      total_auctions: c[8],
      rank1_auctions: c[9],
      rank2_auctions: c[10],
      rank3_auctions: c[11],
    });
    await expectRows("q15", events, [
      counts("2015-07-14", [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]),
      // bids: rank1 {9999, 50, 100}, rank2 {10000, 999999}, rank3 {1000000, 5000000}
      // bidders: all {1..5}, rank1 {1, 3}, rank2 {2, 3}, rank3 {4, 5}
      // auctions: all {1..5}, rank1 {1, 5}, rank2 {2, 3}, rank3 {3, 4}
      counts("2015-07-15", [7, 3, 2, 2, 5, 2, 2, 2, 5, 2, 2, 2]),
      counts("2015-07-16", [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]),
    ]);
  });
});

describe("q17 auction statistics per day", () => {
  it("aggregates per auction and UTC day, with a truncated integer average", async () => {
    const events = [
      bid({ auction: 1, price: 7, dateTime: T - 1 }),
      bid({ auction: 1, price: 100, dateTime: T }),
      bid({ auction: 1, price: 10_000, dateTime: T + HOUR }),
      bid({ auction: 1, price: 1_000_000, dateTime: T + 23 * HOUR }),
      bid({ auction: 1, price: 9999, dateTime: T + 24 * HOUR - 1 }),
      bid({ auction: 2, price: 5, dateTime: T + HOUR }),
      bid({ auction: 2, price: 6, dateTime: T + 2 * HOUR }),
    ];
    const row = (auction: number, day: string, c: number[]) => ({
      auction,
      day,
      total_bids: c[0],
      rank1_bids: c[1],
      rank2_bids: c[2],
      rank3_bids: c[3],
      min_price: c[4],
      max_price: c[5],
      avg_price: c[6],
      sum_price: c[7],
    });
    await expectRows("q17", events, [
      row(1, "2015-07-14", [1, 1, 0, 0, 7, 7, 7, 7]),
      // sum 1020099 over 4 bids: 255024.75 -> 255024
      row(1, "2015-07-15", [4, 2, 1, 1, 100, 1_000_000, 255_024, 1_020_099]),
      // 11 / 2 = 5.5 -> 5
      row(2, "2015-07-15", [2, 2, 0, 0, 5, 6, 5, 11]),
    ]);
  });
});

describe("q18 last bid per bidder and auction", () => {
  it("keeps the greatest dateTime, ties going to the later event", async () => {
    const row = (b: Event) => ({
      auction: b.auction,
      bidder: b.bidder,
      price: b.price,
      channel: b.channel,
      url: b.url,
      dateTime: b.dateTime,
      extra: b.extra,
    });
    const tieFirst = bid({ auction: 1, bidder: 1, price: 20, dateTime: T + 3 * SECOND });
    const tieLast = bid({ auction: 1, bidder: 1, price: 30, dateTime: T + 3 * SECOND, channel: "Baidu" });
    const only = bid({ auction: 2, bidder: 1, price: 40, dateTime: T });
    const latest = bid({ auction: 1, bidder: 2, price: 1, dateTime: T + 5 * SECOND });
    const lateArrival = bid({ auction: 1, bidder: 2, price: 2, dateTime: T + 4 * SECOND });
    const events = [bid({ auction: 1, bidder: 1, price: 10, dateTime: T + 1 * SECOND }), tieFirst, tieLast];
    events.push(only, latest, lateArrival);
    await expectRows("q18", events, [row(tieLast), row(only), row(latest)]);
    // The same stream as JSONL text numbers events the same way.
    const fromText = await runOracle("q18", events.map((e) => JSON.stringify(e)).join("\n"));
    expect(sorted(fromText)).toEqual(sorted([row(tieLast), row(only), row(latest)]));
  });
});

describe("q19 top 10 bids per auction", () => {
  it("ranks by price descending, ties by the earlier event, and cuts at 10", async () => {
    const prices = [30, 5, 40, 10, 30, 50, 5, 20, 40, 1, 30, 10]; // bidder i + 1 bids prices[i]
    const events: Event[] = prices.map((price, i) => bid({ auction: 1, bidder: i + 1, price, dateTime: T + i }));
    events.push(bid({ auction: 2, bidder: 100, price: 3, dateTime: T + 20 }));
    events.push(bid({ auction: 2, bidder: 101, price: 4, dateTime: T + 21 }));
    const row = (auctionId: number, bidder: number, price: number, dateTime: number, rank_number: number) => ({
      auction: auctionId,
      bidder,
      price,
      channel: "Google",
      url: "https://www.google.com/search",
      dateTime,
      extra: "",
      rank_number,
    });
    // 50: b6; 40: b3, b9; 30: b1, b5, b11; 20: b8; 10: b4, b12; 5: b2 (rank 10), b7 (cut); 1: b10 (cut)
    const order = [6, 3, 9, 1, 5, 11, 8, 4, 12, 2];
    await expectRows("q19", events, [
      ...order.map((bidder, i) => row(1, bidder, prices[bidder - 1] as number, T + bidder - 1, i + 1)),
      row(2, 101, 4, T + 21, 1),
      row(2, 100, 3, T + 20, 2),
    ]);
  });
});
