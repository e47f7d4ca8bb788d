/**
 * The TopN and deduplication operators (core/sql/rank.ts) driven through the real task runner:
 * the changes they emit on inserts and retractions, ties ordered by the whole row whatever the
 * arrival order, state that survives a restart, and random insert/retract sequences whose
 * folded output equals the top N computed from scratch.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import type { Key } from "../../core/keys.ts";
import type { Change } from "../../core/sql/aggregate.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import type { Row } from "../../core/sql/expr.ts";
import { deduplicate, rankOrder, topN, windowTopN } from "../../core/sql/rank.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

/** Rows [partition, price, name]: the top by price descending. */
const byPriceDesc = rankOrder([{ column: 1, desc: true }]);

const topHarness = (limit: number, rowNumber: boolean, retracting: boolean, miniBatch = false) =>
  OperatorHarness.create((s: DataStream<Change>) =>
    s.keyBy((c) => [c.row[0]] as Key).process(topN(limit, byPriceDesc, rowNumber, retracting, miniBatch)),
  );

const ins = (...row: unknown[]): Change => ({ kind: "+I", row });
const del = (...row: unknown[]): Change => ({ kind: "-D", row });

describe("TopN over an insert-only input", () => {
  it("with the row number: -U/+U for each rank whose row changed, +I for a rank newly filled", async () => {
    const h = await topHarness(2, true, false);
    await h.processElements([ins("a", 5), ins("a", 7), ins("a", 6), ins("a", 1), ins("b", 3)]);
    expect(h.output()).toEqual([
      ins("a", 5, 1),
      { kind: "-U", row: ["a", 5, 1] },
      { kind: "+U", row: ["a", 7, 1] },
      ins("a", 5, 2),
      { kind: "-U", row: ["a", 5, 2] },
      { kind: "+U", row: ["a", 6, 2] },
      ins("b", 3, 1),
    ]);
  });

  it("without the row number: -D for the row pushed out, +I for the row that entered", async () => {
    const h = await topHarness(2, false, false);
    await h.processElements([ins("a", 5), ins("a", 7), ins("a", 6), ins("a", 1)]);
    expect(h.output()).toEqual([ins("a", 5), ins("a", 7), del("a", 5), ins("a", 6)]);
  });

  it("orders ties by the whole row, whatever the arrival order", async () => {
    for (const arrival of [
      [ins("a", 5, "y"), ins("a", 5, "x"), ins("a", 5, "z")],
      [ins("a", 5, "z"), ins("a", 5, "x"), ins("a", 5, "y")],
    ]) {
      const h = await topHarness(2, true, false);
      await h.processElements(arrival);
      expect(foldChangelog(h.output())).toEqual([
        ["a", 5, "x", 1],
        ["a", 5, "y", 2],
      ]);
    }
  });

  it("keeps its top N across a restart from the committed log", async () => {
    const h = await topHarness(1, false, false);
    await h.processElements([ins("a", 5)]);
    await h.checkpoint(1);
    await h.restart();
    await h.processElements([ins("a", 4), ins("a", 9)]);
    expect(h.output()).toEqual([ins("a", 5), del("a", 5), ins("a", 9)]);
  });
});

describe("TopN with mini-batch", () => {
  it("emits one diff per key for an envelope's changes: the top N before against the top N after", async () => {
    const h = await topHarness(2, true, false, true);
    await h.processElements([ins("a", 5), ins("a", 7), ins("a", 6), ins("a", 1), ins("b", 3)]);
    await h.processElements([ins("a", 9), ins("a", 2)]);
    expect(h.output()).toEqual([
      ins("a", 7, 1),
      ins("a", 6, 2),
      ins("b", 3, 1),
      { kind: "-U", row: ["a", 7, 1] },
      { kind: "+U", row: ["a", 9, 1] },
      { kind: "-U", row: ["a", 6, 2] },
      { kind: "+U", row: ["a", 7, 2] },
    ]);
  });
});

describe("TopN over a retracting input", () => {
  it("brings the next row back when a top row is retracted", async () => {
    const h = await topHarness(1, true, true);
    await h.processElements([ins("a", 5), ins("a", 7), del("a", 7), del("a", 5), del("a", 42)]);
    expect(h.output()).toEqual([
      ins("a", 5, 1),
      { kind: "-U", row: ["a", 5, 1] },
      { kind: "+U", row: ["a", 7, 1] },
      { kind: "-U", row: ["a", 7, 1] },
      { kind: "+U", row: ["a", 5, 1] },
      del("a", 5, 1),
    ]);
  });

  it("ends, over random inserts and retractions, in the top N of the rows left", async () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const [rowNumber, miniBatch] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const h = await topHarness(3, rowNumber, true, miniBatch);
      const live: Row[] = [];
      const changes: Change[] = [];
      for (let i = 0; i < 300; i++) {
        if (live.length > 0 && random(3) === 0) {
          const [row] = live.splice(random(live.length), 1);
          changes.push({ kind: random(2) ? "-D" : "-U", row: row as Row });
        } else {
          const row: Row = [`p${random(4)}`, random(1000) * 1000 + i];
          live.push(row);
          changes.push({ kind: random(2) ? "+I" : "+U", row });
        }
      }
      await h.processElements(changes);
      const expected = ["p0", "p1", "p2", "p3"].flatMap((p) =>
        live
          .filter((r) => r[0] === p)
          .sort((a, b) => (b[1] as number) - (a[1] as number))
          .slice(0, 3)
          .map((r, i) => (rowNumber ? [...r, i + 1] : r)),
      );
      const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
      expect(sorted(foldChangelog(h.output())), `rowNumber ${rowNumber}, mini-batch ${miniBatch}`).toEqual(
        sorted(expected),
      );
    }
  });
});

describe("deduplication", () => {
  const dedupHarness = (desc: boolean, miniBatch = false) =>
    OperatorHarness.create((s: DataStream<Row>) =>
      s.keyBy((r) => [r[0]] as Key).process(deduplicate(rankOrder([{ column: 1, desc }]), miniBatch)),
    );

  it("with mini-batch: one change per key for an envelope's rows", async () => {
    const h = await dedupHarness(true, true);
    await h.processElements([
      ["k", 10, "v1"],
      ["k", 5, "old"],
      ["k", 20, "v3"],
      ["j", 1, "w"],
    ]);
    await h.processElements([
      ["k", 15, "early"],
      ["k", 30, "v4"],
    ]);
    expect(h.output()).toEqual([
      { kind: "+I", row: ["k", 20, "v3"] },
      { kind: "+I", row: ["j", 1, "w"] },
      { kind: "-U", row: ["k", 20, "v3"] },
      { kind: "+U", row: ["k", 30, "v4"] },
    ]);
  });

  it("keeps the last row by time: +I, then -U/+U when a later row comes; an earlier one changes nothing", async () => {
    const h = await dedupHarness(true);
    await h.processElements([
      ["k", 10, "v1"],
      ["k", 5, "old"],
      ["k", 20, "v3"],
      ["j", 1, "w"],
    ]);
    expect(h.output()).toEqual([
      { kind: "+I", row: ["k", 10, "v1"] },
      { kind: "-U", row: ["k", 10, "v1"] },
      { kind: "+U", row: ["k", 20, "v3"] },
      { kind: "+I", row: ["j", 1, "w"] },
    ]);
  });

  it("keeps the first row by time: an earlier row that arrives late replaces it", async () => {
    const h = await dedupHarness(false);
    await h.processElements([
      ["k", 10, "a"],
      ["k", 12, "b"],
      ["k", 5, "c"],
    ]);
    expect(h.output()).toEqual([
      { kind: "+I", row: ["k", 10, "a"] },
      { kind: "-U", row: ["k", 10, "a"] },
      { kind: "+U", row: ["k", 5, "c"] },
    ]);
  });
});

describe("window TopN", () => {
  it("emits a window's top N once, insert-only, when the watermark passes its end; drops late rows", async () => {
    // Rows [window_end, price, name], keyed by the window.
    const h = await OperatorHarness.create((s: DataStream<Row>) =>
      s.keyBy((r) => [r[0]] as Key).process(windowTopN(2, byPriceDesc, true, 0)),
    );
    await h.processElements([
      [10, 5, "a"],
      [10, 9, "b"],
      [20, 1, "c"],
      [10, 7, "d"],
    ]);
    expect(h.output()).toEqual([]);
    await h.processWatermark(9);
    expect(h.take()).toEqual([
      [10, 9, "b", 1],
      [10, 7, "d", 2],
    ]);
    await h.processElements([[10, 99, "late"]]);
    await h.endInput();
    expect(h.take()).toEqual([[20, 1, "c", 1]]);
  });
});
