/**
 * Legacy SESSION group windows, PROCTIME() windows and lookup joins: their plans, their results on
 * small hand-made inputs, and the errors of their misuse.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { planSql } from "../../core/sql/session.ts";
import { StreamTableEnvironment } from "../../core/sql/table-env.ts";

const CLICKS = "k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '10' SECOND";

/** Runs `query` over `rows` of CLICKS (and `setup` statements first); returns the rows. */
async function run(rows: object[], query: string, setup = ""): Promise<unknown[]> {
  const job = defineJob("t", (env) => {
    const tenv = StreamTableEnvironment.create(env);
    tenv.fromDataStream("clicks", env.fromElements(rows), CLICKS);
    if (setup) tenv.executeSql(setup);
    tenv.sqlQuery(query).toDataStream().sinkTo("out");
  });
  return (await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 })).get("out") ?? [];
}

const SESSION_QUERY = `SELECT k, SESSION_START(ts, INTERVAL '10' SECOND) AS s, SESSION_END(ts, INTERVAL '10' SECOND) AS e,
  COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi, COUNT(DISTINCT v) AS kinds
  FROM clicks GROUP BY k, SESSION(ts, INTERVAL '10' SECOND)`;

describe("SESSION group windows", () => {
  it("merges sessions that a row bridges, and emits each once with its start, end and aggregates", async () => {
    const rows = [
      { k: "a", v: 1, ts: 0 },
      { k: "a", v: 5, ts: 15_000 }, // a second session of a…
      { k: "b", v: 7, ts: 1_000 },
      { k: "a", v: 5, ts: 8_000 }, // …until this row joins both
      { k: "a", v: 2, ts: 60_000 },
    ];
    const out = await run(rows, SESSION_QUERY);
    expect(out).toEqual(
      expect.arrayContaining([
        { k: "a", s: 0, e: 25_000, n: 3, total: 11, lo: 1, hi: 5, kinds: 2 },
        { k: "b", s: 1_000, e: 11_000, n: 1, total: 7, lo: 7, hi: 7, kinds: 1 },
        { k: "a", s: 60_000, e: 70_000, n: 1, total: 2, lo: 2, hi: 2, kinds: 1 },
      ]),
    );
    expect(out).toHaveLength(3);
  });

  it("explains as an insert-only session window aggregate and refuses its misuse", () => {
    const ddl = `CREATE TABLE c (${CLICKS}) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
      CREATE TABLE p (k VARCHAR, s TIMESTAMP(3), e TIMESTAMP(3), n BIGINT, total BIGINT, lo BIGINT, hi BIGINT, kinds BIGINT)
      WITH ('connector' = 'print', 'changelog-mode' = 'insert-only');`;
    const [text] = planSql(`${ddl} EXPLAIN INSERT INTO p ${SESSION_QUERY.replace("clicks", "c")}`).explains;
    expect(text).toMatch(
      /SessionWindowAggregate\(gap=\[10000 ms\], time=\[\$\d+\], groupBy=\[k\].*changelogMode=\[I\]/,
    );
    const err = (q: string) => () => planSql(`${ddl} INSERT INTO p ${q}`);
    expect(
      err(
        SESSION_QUERY.replace("clicks", "c").replace("SESSION_END(ts, INTERVAL '10'", "SESSION_END(ts, INTERVAL '20'"),
      ),
    ).toThrow(/SESSION_END must repeat the arguments of the SESSION/);
    expect(err("SELECT k, SESSION_START(ts, INTERVAL '1' SECOND), ts, 1, 1, 1, 1, 1 FROM c")).toThrow(
      /SESSION_START needs the same SESSION\(…\) window in GROUP BY/,
    );
    expect(err("SELECT k, ts, ts, COUNT(*), 1, 1, 1, 1 FROM c GROUP BY k, ts, SESSION(ts, 10)")).toThrow(
      /SESSION needs a positive INTERVAL gap/,
    );
  });
});

describe("PROCTIME() and lookup joins", () => {
  const dir = mkdtempSync(join(tmpdir(), "riffle-sql-lookup-"));
  const side = join(dir, "side.csv");
  writeFileSync(side, "a,1,first a\na,2,second a\nb,3,only b\n,4,no key\n");
  const SIDE = `CREATE TABLE side (k VARCHAR, rank BIGINT, label VARCHAR) WITH ('connector' = 'filesystem', 'path' = '${side}', 'format' = 'csv')`;

  it("joins each row with the lookup table's matching rows (inner and left), filtering by the rest of ON", async () => {
    const rows = [
      { k: "a", v: 1, ts: 0 },
      { k: "b", v: 1, ts: 1 },
      { k: "c", v: 5, ts: 2 },
    ];
    const q = (type: string, extra = "") =>
      `SELECT c.k, c.v, s.rank, s.label FROM (SELECT *, PROCTIME() AS pt FROM clicks) c
       ${type} JOIN side FOR SYSTEM_TIME AS OF c.pt AS s ON c.k = s.k${extra}`;
    expect(await run(rows, q(""), SIDE)).toEqual(
      expect.arrayContaining([
        { k: "a", v: 1, rank: 1, label: "first a" },
        { k: "a", v: 1, rank: 2, label: "second a" },
        { k: "b", v: 1, rank: 3, label: "only b" },
      ]),
    );
    expect(await run(rows, q("LEFT", " AND s.rank > c.v"), SIDE)).toEqual(
      expect.arrayContaining([
        { k: "a", v: 1, rank: 2, label: "second a" },
        { k: "b", v: 1, rank: 3, label: "only b" },
        { k: "c", v: 5, rank: null, label: null },
      ]),
    );
  });

  it("counts processing-time windows per key: every row in exactly one 10 s window", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ k: i % 2 ? "odd" : "even", v: i, ts: i }));
    const out = (await run(
      rows,
      `SELECT k, COUNT(*) AS n, window_start, window_end FROM TABLE(TUMBLE(TABLE p, DESCRIPTOR(pt), INTERVAL '10' SECOND))
       GROUP BY k, window_start, window_end`,
      "CREATE VIEW p AS SELECT *, PROCTIME() AS pt FROM clicks",
    )) as { k: string; n: number; window_start: number; window_end: number }[];
    const totals = Object.fromEntries(
      ["even", "odd"].map((k) => [k, out.filter((r) => r.k === k).reduce((a, r) => a + r.n, 0)]),
    );
    expect(totals).toEqual({ even: 25, odd: 25 });
    for (const r of out) expect([r.window_end - r.window_start, r.window_start % 10_000]).toEqual([10_000, 0]);
  });

  it("explains the lookup join and refuses an event-time AS OF against a table without a rowtime, other connectors and ON without a key", () => {
    const ddl = `${SIDE}; CREATE TABLE c (${CLICKS}) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
      CREATE TABLE g (k VARCHAR, rank BIGINT, label VARCHAR) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
      CREATE TABLE p (k VARCHAR, label VARCHAR) WITH ('connector' = 'print');`;
    const ins = (from: string, on = "x.k = s.k") =>
      `${ddl} INSERT INTO p SELECT x.k, s.label FROM (SELECT *, PROCTIME() AS pt FROM c) x JOIN ${from} ON ${on}`;
    const [text] = planSql(
      `${ins("side FOR SYSTEM_TIME AS OF x.pt AS s").replace("INSERT", "EXPLAIN INSERT")}`,
    ).explains;
    expect(text).toMatch(/LookupJoin\(table=\[side\], joinType=\[InnerJoin\], keys=\[k = k\]\).*changelogMode=\[I\]/);
    expect(() => planSql(ins("side FOR SYSTEM_TIME AS OF x.ts AS s"))).toThrow(
      /the versioned table of a temporal join needs a rowtime column \(a WATERMARK\)/,
    );
    expect(() => planSql(ins("g FOR SYSTEM_TIME AS OF x.pt AS s"))).toThrow(
      /a lookup join against connector 'datagen' \(only 'filesystem'\) is not supported/,
    );
    expect(() => planSql(ins("side FOR SYSTEM_TIME AS OF x.pt AS s", "x.v > s.rank"))).toThrow(
      /a lookup join needs ON with an equality between a column of 'side' and the other side/,
    );
  });
});
