// The oracle's loading of events and its SQL for q0 to q8.

import { describe, expect, it } from "vitest";
import { openOracle, runOracle } from "./duckdb-oracle.ts";
import { auction, bid, bidRow, type Event, expectRows, person, SECOND, T } from "./oracle-sql-helpers.ts";

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
