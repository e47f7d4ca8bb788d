/** The SQL layer's small pieces: window assignment, DATE_FORMAT, changelog folding, scalar functions end to end. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { sqlJob } from "../../core/sql/session.ts";
import { formatTimestamp } from "../../core/sql/time-format.ts";
import { windowsOf } from "../../core/sql/windows.ts";

describe("windowsOf", () => {
  it("gives TUMBLE one window, HOP size/slide windows, CUMULATE the growing windows that hold t", () => {
    expect(windowsOf({ fn: "TUMBLE", sizeMs: 10, stepMs: 10, offsetMs: 0 }, 25)).toEqual([[20, 30]]);
    expect(windowsOf({ fn: "TUMBLE", sizeMs: 10, stepMs: 10, offsetMs: 0 }, -1)).toEqual([[-10, 0]]);
    expect(windowsOf({ fn: "TUMBLE", sizeMs: 10, stepMs: 10, offsetMs: 3 }, 12)).toEqual([[3, 13]]);
    expect(windowsOf({ fn: "HOP", sizeMs: 10, stepMs: 4, offsetMs: 0 }, 9)).toEqual([
      [0, 10],
      [4, 14],
      [8, 18],
    ]);
    expect(windowsOf({ fn: "CUMULATE", sizeMs: 10, stepMs: 2, offsetMs: 0 }, 13)).toEqual([
      [10, 14],
      [10, 16],
      [10, 18],
      [10, 20],
    ]);
  });
});

describe("DATE_FORMAT", () => {
  it("formats Java SimpleDateFormat letters in UTC, with quoted literals", () => {
    const t = Date.UTC(2015, 6, 5, 8, 4, 9, 7);
    expect(formatTimestamp(t, "yyyy-MM-dd HH:mm:ss.SSS")).toBe("2015-07-05 08:04:09.007");
    expect(formatTimestamp(t, "yy/M/d 'at' H")).toBe("15/7/5 at 8");
  });
});

describe("foldChangelog", () => {
  it("adds +I/+U rows, takes -U/-D rows away, and keeps duplicates", () => {
    const a = { x: 1 };
    const b = { x: 2 };
    expect(
      foldChangelog([
        { kind: "+I", row: a },
        { kind: "+I", row: a },
        { kind: "-U", row: a },
        { kind: "+U", row: b },
        { kind: "+I", row: { x: 3 } },
        { kind: "-D", row: { x: 3 } },
      ]),
    ).toEqual([a, b]);
    expect(foldChangelog([a, a])).toEqual([a, a]);
  });
});

describe("scalar functions and NULLs, end to end", () => {
  it("computes CASE, CAST, string functions, IN, BETWEEN and three-valued logic as Flink does", async () => {
    const sql = `CREATE TABLE g (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '4');
CREATE TABLE o (id BIGINT, s VARCHAR, d DOUBLE, b BOOLEAN, n BIGINT, m DECIMAL(10, 2)) WITH ('connector' = 'print');
INSERT INTO o SELECT id,
  UPPER(CONCAT('x', CAST(id AS VARCHAR))) || LOWER('AB'),
  CAST(id AS DOUBLE) / 2,
  CASE WHEN id IN (1, 2) THEN id BETWEEN 2 AND 3 ELSE NULL END OR id = 4,
  CASE id WHEN 3 THEN NULL ELSE MOD(id * 10, 7) END,
  0.1 * id + 0.2
FROM g WHERE id <> 0 AND NOT (id > 10)`;
    const out = await runToCompletion(sqlJob("fns", sql), { clock: new ManualClock(), parallelism: 1 });
    const rows = foldChangelog(out.get("o") ?? []).sort((p, q) => (p.id as number) - (q.id as number));
    expect(rows).toEqual([
      { id: 1, s: "X1ab", d: 0.5, b: false, n: 3, m: 0.3 },
      { id: 2, s: "X2ab", d: 1, b: true, n: 6, m: 0.4 },
      { id: 3, s: "X3ab", d: 1.5, b: null, n: null, m: 0.5 },
      { id: 4, s: "X4ab", d: 2, b: true, n: 5, m: 0.6 },
    ]);
  });
});
