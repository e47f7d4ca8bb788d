/**
 * Dynamic tables on the embedded runtime: a job writes an upsert table and an append
 * table; every read names the checkpoint it read at, queries run over the snapshots,
 * and the changes of a table folded from 0 give its snapshot.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { valueState } from "../../../core/api/state.ts";
import { InMemoryTableStore } from "../../../core/memory/in-memory-table-store.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { SqlError } from "../../../core/sql/errors.ts";
import { SqlSession } from "../../../core/sql/session.ts";
import { StreamTableEnvironment } from "../../../core/sql/table-env.ts";
import { TableReadError } from "../../../core/tables/read.ts";
import { readTable } from "../../../core/tables/read-table.ts";

interface Click {
  readonly user: string;
  readonly n: number;
}

const clicks: Click[] = Array.from({ length: 400 }, (_, i) => ({ user: `u${i % 7}`, n: (i % 5) + 1 }));

const job = defineJob("tables", (env) => {
  env.enableCheckpointing(5);
  env.configure({ sourceBatchSize: 10 });
  env.setParallelism(2);
  const state = { total: valueState<number>() };
  const stream = env.fromElements(clicks);
  stream.toTable("clicks", { columns: "`user` VARCHAR, n BIGINT" });
  stream
    .keyBy((c) => c.user)
    .process<{ user: string; total: number }, typeof state>({
      state,
      processElement(c, ctx) {
        const total = (ctx.state.total.value() ?? 0) + c.n;
        ctx.state.total.update(total);
        ctx.emit({ user: c.user, total });
      },
    })
    .toTable("totals", { columns: "`user` VARCHAR, total BIGINT", primaryKey: ["user"] });
});

function oracle(): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of clicks) m.set(c.user, (m.get(c.user) ?? 0) + c.n);
  return m;
}

describe("dynamic tables on the embedded runtime", () => {
  it("keep an upsert and an append table readable at every sealed checkpoint", async () => {
    const store = new InMemoryTableStore();
    const clock = new ManualClock();
    const rt = new EmbeddedRuntime(job, { tables: store, clock, beforeBatch: () => clock.advance(1) });
    await rt.run();
    const ctx = { job: "tables", store };
    const list = await readTable(ctx, { kind: "list" });
    if (list.kind !== "list") throw new Error("list");
    expect(list.tables.map((t) => t.name).sort()).toEqual(["clicks", "totals"]);
    expect(list.checkpoints.length).toBeGreaterThan(1);

    const want = oracle();
    const ada = await readTable(ctx, { kind: "lookup", table: "totals", key: ["u3"] });
    expect(ada).toMatchObject({
      kind: "lookup",
      checkpoint: list.checkpoint,
      row: { user: "u3", total: want.get("u3") },
    });

    const q = await readTable(ctx, {
      kind: "query",
      sql: "SELECT (SELECT 1) AS one FROM totals",
    }).catch((e: unknown) => e);
    expect(q).toBeInstanceOf(SqlError);

    const sum = await readTable(ctx, { kind: "query", sql: "SELECT SUM(total) AS s, COUNT(*) AS c FROM totals" });
    const total = clicks.reduce((a, c) => a + c.n, 0);
    expect(sum).toMatchObject({ kind: "query", checkpoint: list.checkpoint, rows: [{ s: total, c: 7 }] });
    const raw = await readTable(ctx, { kind: "query", sql: "SELECT SUM(n) AS s FROM clicks" });
    expect(raw).toMatchObject({ rows: [{ s: total }], scanned: clicks.length });

    // At every sealed checkpoint the two tables agree: the append table's sum is the upsert table's.
    for (const at of list.checkpoints) {
      const a = await readTable(ctx, { kind: "query", sql: "SELECT SUM(n) AS s FROM clicks", at: { at } });
      const b = await readTable(ctx, { kind: "query", sql: "SELECT SUM(total) AS s FROM totals", at: { at } });
      if (a.kind !== "query" || b.kind !== "query") throw new Error("query");
      expect(a.rows[0]?.s ?? null).toEqual(b.rows[0]?.s ?? null);
      expect(a.checkpoint).toBe(at);
    }

    // The stream side: the changes from 0, folded per key, are the newest snapshot.
    const changes = await readTable(ctx, { kind: "changes", table: "totals", from: 0 });
    if (changes.kind !== "changes") throw new Error("changes");
    const folded = new Map<string, unknown>();
    for (const c of changes.changes) folded.set(JSON.stringify(c.key), c.row);
    expect(new Map([...folded].map(([k, r]) => [JSON.parse(k)[0], (r as { total: number }).total]))).toEqual(want);
    expect(changes.changes.map((c) => c.checkpoint)).toEqual(
      [...changes.changes.map((c) => c.checkpoint)].sort((a, b) => a - b),
    );

    await expect(readTable(ctx, { kind: "lookup", table: "nope", key: ["x"] })).rejects.toThrow(TableReadError);
    await expect(readTable(ctx, { kind: "snapshot", table: "totals", at: { at: 99_999 } })).rejects.toThrow(
      /no table snapshot at checkpoint 99999/,
    );
    await expect(readTable(ctx, { kind: "lookup", table: "clicks", key: ["x"] })).rejects.toThrow(/no primary key/);
  });
});

describe("riffle tables in SQL", () => {
  it("CREATE TABLE … WITH ('connector' = 'riffle') + INSERT INTO, and CREATE MATERIALIZED TABLE, keep tables that agree at every checkpoint", async () => {
    const sqlJob = defineJob("sql-tables", (env) => {
      env.enableCheckpointing(5);
      env.configure({ sourceBatchSize: 10 });
      env.setParallelism(2);
      const tenv = StreamTableEnvironment.create(env);
      tenv.fromDataStream("clicks", env.fromElements(clicks), "`user` VARCHAR, n BIGINT");
      tenv.executeSql(`
        CREATE TABLE totals (\`user\` VARCHAR, total BIGINT, PRIMARY KEY (\`user\`) NOT ENFORCED) WITH ('connector' = 'riffle');
        INSERT INTO totals SELECT \`user\`, SUM(n) FROM clicks GROUP BY \`user\`;
        CREATE MATERIALIZED TABLE grand (PRIMARY KEY (id) NOT ENFORCED) AS SELECT 1 AS id, SUM(n) AS total FROM clicks;
      `);
    });
    const store = new InMemoryTableStore();
    const clock = new ManualClock();
    await new EmbeddedRuntime(sqlJob, { tables: store, clock, beforeBatch: () => clock.advance(1) }).run();
    const ctx = { job: "sql-tables", store };
    const list = await readTable(ctx, { kind: "list" });
    if (list.kind !== "list") throw new Error("list");
    expect(list.checkpoints.length).toBeGreaterThan(2);
    let partial = 0;
    const total = clicks.reduce((a, c) => a + c.n, 0);
    for (const at of list.checkpoints) {
      const q = await readTable(ctx, {
        kind: "query",
        sql: "SELECT g.total AS grand, SUM(t.total) AS users FROM grand g JOIN (SELECT 1 AS one, total FROM totals) t ON g.id = t.one GROUP BY g.total",
        at: { at },
      });
      if (q.kind !== "query") throw new Error("query");
      expect(q.checkpoint).toBe(at);
      for (const r of q.rows) expect(r.users).toBe(r.grand);
      if (q.rows.some((r) => (r.grand as number) < total)) partial++;
    }
    expect(partial).toBeGreaterThan(0); // the checks above saw tables mid-stream, not only the end
    const final = await readTable(ctx, { kind: "snapshot", table: "totals" });
    if (final.kind !== "snapshot") throw new Error("snapshot");
    expect(new Map(final.rows.map((r) => [r.user, r.total]))).toEqual(oracle());
  });

  it("refuses an append riffle table for an updating query, and options it does not know", () => {
    const session = new SqlSession();
    session.execute(
      "CREATE TABLE clicks (`user` VARCHAR, n BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '5')",
    );
    expect(() =>
      session.execute(`CREATE TABLE t (\`user\` VARCHAR, n BIGINT) WITH ('connector' = 'riffle');
        INSERT INTO t SELECT \`user\`, SUM(n) FROM clicks GROUP BY \`user\``),
    ).toThrow(/accepts only \[\+I\]/);
    expect(() =>
      session.execute(`CREATE TABLE u (\`user\` VARCHAR, n BIGINT) WITH ('connector' = 'riffle', 'job' = 'x');
        INSERT INTO u SELECT \`user\`, n FROM clicks`),
    ).toThrow(/no option 'job'/);
  });
});
