import { describe, expect, it } from "vitest";
import { compareMultisets, openOracle, runOracle } from "./duckdb-oracle.ts";

/** 2015-07-15T00:00:00Z, a multiple of 10 s (and of 2 s), like the generator's base time. */
const T = Date.UTC(2015, 6, 15);
const SECOND = 1000;
const HOUR = 3600 * SECOND;

type Event = Record<string, unknown>;

function person(fields: Event): Event {
  return {
    type: "person",
    id: 1000,
    name: "Peter Smith",
    emailAddress: "ps@abc.com",
    creditCard: "1111 2222 3333 4444",
    city: "Bend",
    state: "OR",
    dateTime: T,
    extra: "",
    ...fields,
  };
}

function auction(fields: Event): Event {
  return {
    type: "auction",
    id: 1000,
    itemName: "item",
    description: "desc",
    initialBid: 100,
    reserve: 200,
    dateTime: T,
    expires: T + 60 * SECOND,
    seller: 1000,
    category: 10,
    extra: "",
    ...fields,
  };
}

function bid(fields: Event): Event {
  return {
    type: "bid",
    auction: 1000,
    bidder: 2000,
    price: 100,
    channel: "Google",
    url: "https://www.google.com/search",
    dateTime: T,
    extra: "",
    ...fields,
  };
}

/** Rows in a canonical order (by their JSON with sorted keys), for order-insensitive exact comparison. */
function sorted(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const text = (row: Record<string, unknown>) =>
    JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));
  return [...rows].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

async function expectRows(query: string, events: readonly Event[], expected: Record<string, unknown>[]) {
  const actual = await runOracle(query, events);
  expect(sorted(actual)).toEqual(sorted(expected));
}

/** The bid's q0-style projection. */
function bidRow(b: Event) {
  return { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra };
}

describe("loading events", () => {
  it("numbers events by position, skipping blank lines, from JSONL text or objects alike", async () => {
    const events = [person({ id: 1 }), bid({ bidder: 1 }), auction({ id: 7 }), bid({ bidder: 2 })];
    const jsonl = `${events.map((e) => JSON.stringify(e)).join("\n\n")}\r\n\n`;
    for (const input of [jsonl, events]) {
      const oracle = await openOracle(input);
      try {
        expect(oracle.counts).toEqual({ person: 1, auction: 1, bid: 2 });
        expect(await oracle.runSql("SELECT bidder, event_id FROM bid ORDER BY event_id")).toEqual([
          { bidder: 1, event_id: 1 },
          { bidder: 2, event_id: 3 },
        ]);
        const others = "SELECT id, event_id FROM person UNION ALL SELECT id, event_id FROM auction ORDER BY event_id";
        expect(await oracle.runSql(others)).toEqual([
          { id: 1, event_id: 0 },
          { id: 7, event_id: 2 },
        ]);
      } finally {
        oracle.close();
      }
    }
  });

  it("rejects events without a known type and lines that are not objects", async () => {
    await expect(runOracle("q0", [bid({}), { type: "bids", auction: 1 }])).rejects.toThrow(/loaded 1 of 2 events/);
    await expect(runOracle("q0", `${JSON.stringify(bid({}))}\n[1, 2]\n`)).rejects.toThrow(/line 2/);
  });

  it("has no oracle for q12 (processing time) and rejects unknown query names", async () => {
    await expect(runOracle("q12", [bid({})])).rejects.toThrow(/processing-time/);
    await expect(runOracle("q99", [bid({})])).rejects.toThrow(/no oracle SQL for q99/);
    await expect(runOracle("../q0", [bid({})])).rejects.toThrow(/not a Nexmark query name/);
  });
});

describe("q0 pass-through", () => {
  it("emits every bid and nothing else", async () => {
    const b1 = bid({ auction: 1001, bidder: 1, price: 5, dateTime: T + 1, extra: "x" });
    const b2 = bid({ auction: 1002, bidder: 2, price: 6, dateTime: T + 2, extra: "" });
    await expectRows("q0", [person({}), b1, auction({}), b2, b2], [bidRow(b1), bidRow(b2), bidRow(b2)]);
  });
});

describe("q1 currency conversion", () => {
  it("multiplies price by 0.908 exactly to 3 decimals", async () => {
    const b1 = bid({ price: 1000 });
    const b2 = bid({ price: 1 });
    const b3 = bid({ price: 12345 });
    await expectRows(
      "q1",
      [b1, b2, b3],
      [
        { ...bidRow(b1), price: 908 },
        { ...bidRow(b2), price: 0.908 },
        { ...bidRow(b3), price: 11209.26 },
      ],
    );
  });
});

describe("q2 selection", () => {
  it("keeps bids on auctions divisible by 123", async () => {
    await expectRows(
      "q2",
      [bid({ auction: 1230, price: 1 }), bid({ auction: 1231, price: 2 }), bid({ auction: 2460, price: 3 })],
      [
        { auction: 1230, price: 1 },
        { auction: 2460, price: 3 },
      ],
    );
  });
});

describe("q3 local item suggestion", () => {
  it("joins category-10 auctions with sellers in OR, ID or CA", async () => {
    const events = [
      person({ id: 1000, name: "Ann", city: "Bend", state: "OR" }),
      person({ id: 1001, name: "Bob", city: "Seattle", state: "WA" }),
      person({ id: 1002, name: "Cy", city: "Los Angeles", state: "CA" }),
      person({ id: 1003, name: "Di", city: "Boise", state: "ID" }),
      auction({ id: 1, seller: 1000, category: 10 }), // OR, category 10: yes
      auction({ id: 2, seller: 1001, category: 10 }), // WA: no
      auction({ id: 3, seller: 1002, category: 11 }), // category 11: no
      auction({ id: 4, seller: 1003, category: 10 }), // ID: yes
      auction({ id: 5, seller: 1000, category: 10 }), // second auction of Ann: yes
      auction({ id: 6, seller: 9999, category: 10 }), // no such person: no
      auction({ id: 7, seller: 1002, category: 10 }), // CA: yes
    ];
    await expectRows("q3", events, [
      { name: "Ann", city: "Bend", state: "OR", id: 1 },
      { name: "Di", city: "Boise", state: "ID", id: 4 },
      { name: "Ann", city: "Bend", state: "OR", id: 5 },
      { name: "Cy", city: "Los Angeles", state: "CA", id: 7 },
    ]);
  });
});

describe("q4 average winning price per category", () => {
  it("takes each auction's max bid within [dateTime, expires] and truncates the average", async () => {
    const life = { dateTime: T, expires: T + 10 * SECOND };
    const events = [
      auction({ id: 1, category: 10, ...life }),
      auction({ id: 2, category: 10, ...life }),
      auction({ id: 3, category: 11, ...life }),
      auction({ id: 4, category: 11, ...life }),
      auction({ id: 5, category: 11, ...life }),
      auction({ id: 6, category: 12, ...life }),
      bid({ auction: 1, price: 100, dateTime: T + SECOND }),
      bid({ auction: 1, price: 300, dateTime: T + 10 * SECOND }), // at expires: counts
      bid({ auction: 1, price: 999, dateTime: T + 10 * SECOND + 1 }), // after expires
      bid({ auction: 1, price: 5000, dateTime: T - 1 }), // before the auction
      bid({ auction: 2, price: 51, dateTime: T }), // at the auction's start: counts
      bid({ auction: 3, price: 7, dateTime: T + SECOND }),
      bid({ auction: 3, price: 8, dateTime: T + 2 * SECOND }),
      bid({ auction: 4, price: 11, dateTime: T + SECOND }),
      bid({ auction: 5, price: 11, dateTime: T + SECOND }),
      bid({ auction: 6, price: 1000, dateTime: T + 11 * SECOND }), // only bid is late: no category 12 row
    ];
    // category 10: maxes 300 and 51, (300 + 51) / 2 = 175.5 -> 175
    // category 11: maxes 8, 11, 11, 30 / 3 = 10
    await expectRows("q4", events, [
      { category: 10, final: 175 },
      { category: 11, final: 10 },
    ]);
  });
});

describe("q5 hot items", () => {
  it("counts bids per auction in each 10 s window sliding by 2 s and keeps the per-window maxima", async () => {
    const events = [
      bid({ auction: 1, dateTime: T + 1 * SECOND }), // windows starting T-8s, T-6s, T-4s, T-2s, T
      bid({ auction: 2, dateTime: T + 3 * SECOND }), // T-6s, T-4s, T-2s, T, T+2s
      bid({ auction: 1, dateTime: T + 9 * SECOND }), // T, T+2s, T+4s, T+6s, T+8s
      bid({ auction: 2, dateTime: T + 11 * SECOND }), // T+2s, T+4s, T+6s, T+8s, T+10s
    ];
    // Window start -> counts:       auction 1  auction 2   emitted
    // T-8s                           1          -           (1, 1)
    // T-6s, T-4s, T-2s               1          1           (1, 1), (2, 1) each
    // T                              2          1           (1, 2)
    // T+2s                           1          2           (2, 2)
    // T+4s, T+6s, T+8s               1          1           (1, 1), (2, 1) each
    // T+10s                          -          1           (2, 1)
    const expected = [
      ...Array.from({ length: 7 }, () => ({ auction: 1, num: 1 })),
      ...Array.from({ length: 7 }, () => ({ auction: 2, num: 1 })),
      { auction: 1, num: 2 },
      { auction: 2, num: 2 },
    ];
    await expectRows("q5", events, expected);
  });

  it("puts a bid at the window end in the next window only", async () => {
    const events = [
      bid({ auction: 7, dateTime: T }), // windows starting T-8s, T-6s, T-4s, T-2s, T
      bid({ auction: 7, dateTime: T + 10 * SECOND - 1 }), // T, T+2s, T+4s, T+6s, T+8s
      bid({ auction: 8, dateTime: T + 10 * SECOND }), // T+2s, T+4s, T+6s, T+8s, T+10s (not T)
      bid({ auction: 8, dateTime: T + 10 * SECOND }),
    ];
    // T-8s..T-2s: auction 7 alone with 1 bid. T: auction 7 with 2 bids (auction 8's bids are outside;
    // were they inside, auction 8 would tie with 2). T+2s..T+8s: auction 8 (2) beats auction 7 (1).
    // T+10s: auction 8 alone with 2.
    await expectRows("q5", events, [
      ...Array.from({ length: 4 }, () => ({ auction: 7, num: 1 })),
      { auction: 7, num: 2 },
      ...Array.from({ length: 5 }, () => ({ auction: 8, num: 2 })),
    ]);
  });
});

describe("q7 highest bid", () => {
  it("emits all bids tied at a window's max, including one exactly at the window end (BETWEEN is inclusive)", async () => {
    const b1 = bid({ auction: 1, bidder: 1, price: 50, dateTime: T + 1 * SECOND });
    const b2 = bid({ auction: 2, bidder: 2, price: 80, dateTime: T + 2 * SECOND });
    const b3 = bid({ auction: 3, bidder: 3, price: 80, dateTime: T + 5 * SECOND });
    const b4 = bid({ auction: 4, bidder: 4, price: 80, dateTime: T + 10 * SECOND }); // window 2, and end of window 1
    const b5 = bid({ auction: 5, bidder: 5, price: 70, dateTime: T + 15 * SECOND });
    const b6 = bid({ auction: 6, bidder: 6, price: 60, dateTime: T + 25 * SECOND });
    const row = (b: Event) => ({
      auction: b.auction,
      price: b.price,
      bidder: b.bidder,
      dateTime: b.dateTime,
      extra: b.extra,
    });
    // Window [T, T+10s): max 80 -> b2, b3, and b4 (at T+10s, within BETWEEN T AND T+10s).
    // Window [T+10s, T+20s): max 80 (b4) -> b4 again. Window [T+20s, T+30s): max 60 -> b6.
    await expectRows("q7", [b1, b2, b3, b4, b5, b6], [row(b2), row(b3), row(b4), row(b4), row(b6)]);
  });
});

describe("q8 new users", () => {
  it("joins people with their auctions in the same 10 s tumbling window", async () => {
    const events = [
      person({ id: 1000, name: "Ann", dateTime: T + 1 * SECOND }),
      person({ id: 1001, name: "Bob", dateTime: T + 9 * SECOND }),
      person({ id: 1002, name: "Cy", dateTime: T + 20 * SECOND }),
      person({ id: 1003, name: "Di", dateTime: T + 2 * SECOND }),
      auction({ id: 1, seller: 1000, dateTime: T + 10 * SECOND - 1 }), // same window as Ann
      auction({ id: 2, seller: 1000, dateTime: T + 5 * SECOND }), // again: still one row
      auction({ id: 3, seller: 1001, dateTime: T + 10 * SECOND }), // next window: no row for Bob
      auction({ id: 4, seller: 1002, dateTime: T + 29 * SECOND }), // Cy, window [T+20s, T+30s)
      auction({ id: 5, seller: 1004, dateTime: T + 1 * SECOND }), // no such person
    ];
    await expectRows("q8", events, [
      { id: 1000, name: "Ann", starttime: T },
      { id: 1002, name: "Cy", starttime: T + 20 * SECOND },
    ]);
  });
});

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

describe("compareMultisets", () => {
  it("is empty for equal multisets in any order", () => {
    expect(
      compareMultisets(
        [
          { a: 1, s: "x" },
          { a: 2, s: "y" },
          { a: 1, s: "x" },
        ],
        [
          { s: "y", a: 2 },
          { a: 1, s: "x" },
          { a: 1, s: "x" },
        ],
      ),
    ).toEqual([]);
    expect(compareMultisets([], [])).toEqual([]);
  });

  it("counts multiplicity", () => {
    const diffs = compareMultisets([{ a: 1 }, { a: 1 }], [{ a: 1 }]);
    expect(diffs).toEqual([
      "2 actual rows vs 1 expected: 0 expected rows missing, 1 unexpected rows",
      "unexpected: { a: 1 }",
    ]);
  });

  it("reports missing and unexpected rows", () => {
    const diffs = compareMultisets([{ a: 1, s: "x" }], [{ a: 2, s: "x" }]);
    expect(diffs).toContain('missing: { a: 2, s: "x" }');
    expect(diffs).toContain('unexpected: { a: 1, s: "x" }');
  });

  it("compares integers exactly, even where the relative difference is tiny", () => {
    expect(compareMultisets([{ t: 1436918400001 }], [{ t: 1436918400000 }])).not.toEqual([]);
    expect(compareMultisets([{ t: 1436918400000 }], [{ t: 1436918400000 }])).toEqual([]);
    expect(compareMultisets([{ n: 3n }], [{ n: 3 }])).toEqual([]);
  });

  it("compares other numbers within a relative tolerance (1e-9 by default)", () => {
    expect(compareMultisets([{ p: 0.908 * (1 + 1e-12) }], [{ p: 0.908 }])).toEqual([]);
    expect(compareMultisets([{ p: 908.0000000000001 }], [{ p: 908 }])).toEqual([]);
    expect(compareMultisets([{ p: 0.908 * (1 + 1e-8) }], [{ p: 0.908 }])).not.toEqual([]);
    expect(compareMultisets([{ p: 1.001 }], [{ p: 1 }], { relTol: 1e-2 })).toEqual([]);
    expect(compareMultisets([{ p: 1.1 }], [{ p: 1 }], { relTol: 1e-2 })).not.toEqual([]);
  });

  it("matches tolerant rows one to one", () => {
    const expected = [
      { k: "a", p: 1.5 },
      { k: "a", p: 2.5 },
    ];
    expect(
      compareMultisets(
        [
          { k: "a", p: 2.5 + 1e-12 },
          { k: "a", p: 1.5 - 1e-12 },
        ],
        expected,
      ),
    ).toEqual([]);
    expect(
      compareMultisets(
        [
          { k: "a", p: 1.5 + 1e-12 },
          { k: "a", p: 1.5 - 1e-12 },
        ],
        expected,
      ),
    ).toContain('missing: { k: "a", p: 2.5 }');
  });

  it("requires exactly the same keys", () => {
    const diffs = compareMultisets([{ a: 1, b: 2 }], [{ a: 1, c: 2 }]);
    expect(diffs).toContain("actual rows have keys [a, b], which no expected row has");
    expect(diffs).toContain("expected rows have keys [a, c], which no actual row has");
    expect(compareMultisets([{ a: 1, b: null }], [{ a: 1 }])).not.toEqual([]);
  });

  it("does not equate strings with numbers, or null with a value", () => {
    expect(compareMultisets([{ a: "1" }], [{ a: 1 }])).not.toEqual([]);
    expect(compareMultisets([{ a: null }], [{ a: 0 }])).not.toEqual([]);
    expect(compareMultisets([{ a: null }], [{ a: null }])).toEqual([]);
  });

  it("handles large differing outputs quickly", () => {
    const expected = Array.from({ length: 20_000 }, (_, i) => ({ k: i, p: i + 0.5 }));
    const actual = expected.map((r) => ({ k: r.k, p: r.p * (1 + 1e-12) }));
    actual[7] = { k: 7, p: 99.5 };
    const started = performance.now();
    const diffs = compareMultisets(actual, expected);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(diffs).toEqual([
      "20000 actual rows vs 20000 expected: 1 expected rows missing, 1 unexpected rows",
      "missing: { k: 7, p: 7.5 }",
      "unexpected: { k: 7, p: 99.5 }",
    ]);
  });
});
