/**
 * A calc over a scan runs in the source's reader (core/sql/scan-calc.ts): its filter and
 * projection give the rows the separate operators gave. The Nexmark suite (test/sql/nexmark/)
 * covers the `nexmark` connector's computed column this way; here a `datagen` table with a filter.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { explain, planSql, sqlJob } from "../../core/sql/session.ts";

const TABLE = `CREATE TABLE gen (id BIGINT, price INT, name VARCHAR) WITH (
  'connector' = 'datagen', 'number-of-rows' = '3000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000',
  'fields.price.min' = '1', 'fields.price.max' = '100', 'fields.name.length' = '3'
);
`;
const ALL = `${TABLE}CREATE TABLE all_rows (id BIGINT, price INT, name VARCHAR) WITH ('connector' = 'print');
INSERT INTO all_rows SELECT * FROM gen;`;
const GROUPED = `${TABLE}CREATE TABLE grouped (k BIGINT, c BIGINT, s INT, n VARCHAR) WITH ('connector' = 'print');
INSERT INTO grouped
SELECT id % 7 AS k, COUNT(*) AS c, SUM(price * 2) AS s, MAX(UPPER(name)) AS n
FROM gen WHERE id % 3 = 0 AND price > 20 GROUP BY id % 7;`;

type R = Record<string, unknown>;

async function table(sql: string, sink: string, parallelism: number): Promise<R[]> {
  const out = await runToCompletion(sqlJob("scan-calc", sql), { clock: new ManualClock(), parallelism });
  return foldChangelog(out.get(sink) ?? []) as R[];
}

describe("a calc fused into its scan", () => {
  it("is shown in the source's reader in EXPLAIN", () => {
    const plan = explain(planSql(GROUPED).inserts[0] as Parameters<typeof explain>[0]);
    expect(plan).toMatch(/Calc\(where=\[.*\) → in the source's reader/);
  });

  for (const parallelism of [1, 3])
    it(`filters and projects as the rows read unfused say, at parallelism ${parallelism}`, async () => {
      const rows = await table(ALL, "all_rows", 1);
      expect(rows).toHaveLength(2000);
      const expected = new Map<number, { k: number; c: number; s: number; n: string }>();
      for (const r of rows) {
        const id = r.id as number;
        const price = r.price as number;
        if (id % 3 !== 0 || price <= 20) continue;
        const k = id % 7;
        const g = expected.get(k) ?? { k, c: 0, s: 0, n: "" };
        const name = (r.name as string).toUpperCase();
        expected.set(k, { k, c: g.c + 1, s: g.s + price * 2, n: name > g.n ? name : g.n });
      }
      const got = await table(GROUPED, "grouped", parallelism);
      const byKey = (a: R, b: R) => (a.k as number) - (b.k as number);
      expect(got.sort(byKey)).toEqual([...expected.values()].sort(byKey));
    });
});

// Views over watermarks of a computed column: the views read the source's records through it.
const TIMED = `CREATE TABLE gen (id BIGINT, price INT, name VARCHAR, t TIMESTAMP(3),
  doubled AS price * 2 + 1, WATERMARK FOR t AS t - INTERVAL '1' SECOND) WITH (
  'connector' = 'datagen', 'number-of-rows' = '3000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000',
  'fields.price.min' = '1', 'fields.price.max' = '100', 'fields.name.length' = '3'
);
CREATE VIEW a AS SELECT id, doubled, t FROM gen WHERE doubled > 61;
CREATE VIEW b AS SELECT id, UPPER(name) AS n FROM gen WHERE id % 2 = 0;
CREATE TABLE joined (id BIGINT, d INT, n VARCHAR) WITH ('connector' = 'print');
INSERT INTO joined SELECT a.id, a.doubled, b.n FROM a JOIN b ON a.id = b.id;`;

// A column the filter equates with a literal is that literal in the projection (folded there).
const PICKED = `${TIMED.slice(0, TIMED.indexOf("CREATE VIEW"))}
CREATE VIEW p AS SELECT id, CASE WHEN price = 40 THEN UPPER(name) ELSE name END AS n, doubled FROM gen
  WHERE price = 40 AND id > 100;
CREATE TABLE picked (id BIGINT, n VARCHAR, d INT) WITH ('connector' = 'print');
INSERT INTO picked SELECT * FROM p;`;

// A window aggregate over a view: the view, the table function and the calc run in one flatMap.
const WINDOWED = `${TIMED.slice(0, TIMED.indexOf("CREATE TABLE joined"))}
CREATE TABLE counted (id BIGINT, c BIGINT, ws TIMESTAMP(3)) WITH ('connector' = 'print');
INSERT INTO counted SELECT id % 5, COUNT(*), window_start
FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(t), INTERVAL '10' SECOND)) GROUP BY id % 5, window_start, window_end;`;

describe("views over the watermarks of a computed column", () => {
  it("under a window aggregate run in its flatMap, as EXPLAIN says", () => {
    const plan = explain(planSql(WINDOWED).inserts[0] as Parameters<typeof explain>[0]);
    expect(plan).toMatch(/WindowAggregate\(.*\) → flatMap \+ keyBy \+ keyed process over panes with event-time timers/);
    expect(plan).toMatch(/WindowTableFunction\(.*\) → in the window aggregate's flatMap/);
    expect(plan).toMatch(
      /Calc\(where=\[\(doubled > 61\)\].* → in the window aggregate's flatMap, of the source's records/,
    );
  });

  it("fold a column their filter equates with a literal", async () => {
    const rows = await table(ALL, "all_rows", 1);
    const expected = rows
      .filter((r) => r.price === 40 && (r.id as number) > 100)
      .map((r) => ({ id: r.id, n: (r.name as string).toUpperCase(), d: 81 }));
    expect(expected.length).toBeGreaterThan(5);
    const byId = (x: R, y: R) => (x.id as number) - (y.id as number);
    expect((await table(PICKED, "picked", 2)).sort(byId)).toEqual(expected.sort(byId));
  });

  it("read the source's records in EXPLAIN", () => {
    const plan = explain(planSql(TIMED).inserts[0] as Parameters<typeof explain>[0]);
    expect(plan).toMatch(/Calc\(where=\[\(doubled > 61\)\].* → filter \+ map of the source's records/);
    expect(plan).toMatch(/Watermarks\(rowtime=\[t\].* → over the source's records/);
    expect(plan).toMatch(/doubled\]\) → above the watermarks, in the operators that read the source's records/);
  });

  for (const parallelism of [1, 3])
    it(`join as the rows read unfused say, at parallelism ${parallelism}`, async () => {
      const rows = await table(ALL, "all_rows", 1);
      const expected = rows
        .filter((r) => (r.price as number) * 2 + 1 > 61 && (r.id as number) % 2 === 0)
        .map((r) => ({ id: r.id, d: (r.price as number) * 2 + 1, n: (r.name as string).toUpperCase() }));
      expect(expected.length).toBeGreaterThan(300);
      const got = await table(TIMED, "joined", parallelism);
      const byId = (x: R, y: R) => (x.id as number) - (y.id as number);
      expect(got.sort(byId)).toEqual(expected.sort(byId));
    });
});
