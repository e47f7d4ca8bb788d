/**
 * The OVER aggregate operators (core/sql/over.ts, over-retract.ts) through the real task runner:
 * over an insert-only input, rows wait for the watermark and are emitted once, in time order,
 * with their frame's aggregates (ROWS and RANGE frames; late rows dropped); over a retracting
 * input, random inserts and retractions fold to the table computed from scratch.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import type { Key } from "../../core/keys.ts";
import type { Change } from "../../core/sql/aggregate.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import type { Row } from "../../core/sql/expr.ts";
import type { AggCall, OverFrame } from "../../core/sql/logical.ts";
import { overAggregate } from "../../core/sql/over.ts";
import { retractingOverAggregate } from "../../core/sql/over-retract.ts";
import { BIGINT } from "../../core/sql/types.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

/** Rows [partition, time, value]: SUM(value) and MAX(value) over the frame. */
const AGGS: AggCall[] = [
  { fn: "SUM", arg: 2, distinct: false, type: BIGINT },
  { fn: "MAX", arg: 2, distinct: false, type: BIGINT },
];

const appendHarness = (frame: OverFrame) =>
  OperatorHarness.create((s: DataStream<Row>) => s.keyBy((r) => [r[0]] as Key).process(overAggregate(1, frame, AGGS)));

describe("OVER aggregate over an insert-only input", () => {
  it("ROWS BETWEEN 1 PRECEDING: emits rows in time order as the watermark passes them, drops late rows", async () => {
    const h = await appendHarness({ unit: "ROWS", preceding: 1 });
    await h.processElements([
      ["a", 3, 30],
      ["a", 1, 10],
      ["b", 1, 7],
      ["a", 2, 20],
    ]);
    expect(h.output()).toEqual([]);
    await h.processWatermark(2);
    expect(h.take()).toEqual([
      ["a", 1, 10, 10, 10],
      ["b", 1, 7, 7, 7],
      ["a", 2, 20, 30, 20],
    ]);
    await h.processElements([["a", 2, 99]]);
    await h.processWatermark(3);
    await h.endInput();
    expect(h.take()).toEqual([["a", 3, 30, 50, 30]]);
  });

  it("RANGE BETWEEN INTERVAL PRECEDING: rows of equal time are peers; older rows leave the frame", async () => {
    const h = await appendHarness({ unit: "RANGE", precedingMs: 1000 });
    await h.processElements([
      ["a", 1000, 2],
      ["a", 1000, 1],
      ["a", 1500, 4],
      ["a", 2600, 8],
    ]);
    await h.endInput();
    expect(h.output()).toEqual([
      ["a", 1000, 1, 3, 2],
      ["a", 1000, 2, 3, 2],
      ["a", 1500, 4, 7, 4],
      ["a", 2600, 8, 8, 8],
    ]);
  });

  it("keeps the frame across a restart from the committed log", async () => {
    const h = await appendHarness({ unit: "ROWS", preceding: "unbounded" });
    await h.processElements([["a", 1, 5]]);
    await h.processWatermark(1);
    await h.checkpoint(1);
    await h.restart();
    await h.processElements([["a", 2, 6]]);
    await h.endInput();
    expect(h.output()).toEqual([
      ["a", 1, 5, 5, 5],
      ["a", 2, 6, 11, 6],
    ]);
  });
});

/** Each row's aggregates over its frame, computed from scratch (times are unique here). */
function fromScratch(rows: readonly Row[], frame: OverFrame): Row[] {
  const out: Row[] = [];
  for (const p of new Set(rows.map((r) => r[0]))) {
    const part = rows.filter((r) => r[0] === p).sort((a, b) => (a[1] as number) - (b[1] as number));
    part.forEach((r, i) => {
      const inFrame = part.filter((x, j) =>
        frame.unit === "ROWS"
          ? j <= i && (frame.preceding === "unbounded" || j >= i - frame.preceding)
          : (x[1] as number) <= (r[1] as number) &&
            (frame.precedingMs === "unbounded" || (x[1] as number) >= (r[1] as number) - frame.precedingMs),
      );
      const values = inFrame.map((x) => x[2] as number);
      out.push([...r, values.reduce((a, b) => a + b, 0), Math.max(...values)]);
    });
  }
  return out;
}

describe("OVER aggregate over a retracting input", () => {
  const frames: OverFrame[] = [
    { unit: "ROWS", preceding: 2 },
    { unit: "ROWS", preceding: "unbounded" },
    { unit: "RANGE", precedingMs: 20_000 },
  ];
  for (const frame of frames) {
    it(`ends, over random inserts and retractions, in each row's aggregates (${JSON.stringify(frame)})`, async () => {
      const h = await OperatorHarness.create((s: DataStream<Change>) =>
        s.keyBy((c) => [c.row[0]] as Key).process(retractingOverAggregate(1, frame, AGGS)),
      );
      let seed = 5;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const live: Row[] = [];
      const changes: Change[] = [];
      for (let i = 0; i < 200; i++) {
        if (live.length > 0 && random(3) === 0) {
          const [row] = live.splice(random(live.length), 1);
          changes.push({ kind: random(2) ? "-D" : "-U", row: row as Row });
        } else {
          const row: Row = [`p${random(3)}`, random(300) * 1000 + i, random(50)];
          live.push(row);
          changes.push({ kind: random(2) ? "+I" : "+U", row });
        }
      }
      await h.processElements(changes);
      const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
      expect(sorted(foldChangelog(h.output()))).toEqual(sorted(fromScratch(live, frame)));
    });
  }
});
