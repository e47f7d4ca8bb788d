/**
 * The filesystem connector: csv and json files written by the sink read back unchanged by the
 * source (NULLs, empty strings, quotes, commas, timestamps, escaped partition values); a sink file
 * is visible only once its checkpoint completes; bad options are refused at plan time.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { SqlError } from "../../core/sql/errors.ts";
import type { Row } from "../../core/sql/expr.ts";
import { filesystemSink } from "../../core/sql/filesystem.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { StreamTableEnvironment } from "../../core/sql/table-env.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "riffle-sql-fs-"));
const COLUMNS = "id BIGINT, name VARCHAR, price DOUBLE, ok BOOLEAN, ts TIMESTAMP(3), part VARCHAR";
const ROWS: Row[] = [
  [1, "plain", 1.5, true, Date.UTC(2015, 6, 15, 8, 30, 0, 7), "a"],
  [2, 'with "quotes", and commas', -2, false, 0, "b:c/d"],
  [3, "", null, null, null, null],
  [4, null, 0.25, true, Date.UTC(2024, 1, 29), "a"],
];

const NAMES = ["id", "name", "price", "ok", "ts", "part"];

/** Writes ROWS (from a DataStream) into a filesystem table in `format` and reads them back through a filesystem source. */
async function roundTrip(format: string, partitioned: boolean): Promise<{ dir: string; rows: unknown[] }> {
  const dir = tmp();
  const by = partitioned ? "PARTITIONED BY (part)" : "";
  const table = (name: string) =>
    `CREATE TABLE ${name} (${COLUMNS}) ${by} WITH ('connector' = 'filesystem', 'path' = 'file://${dir}', 'format' = '${format}')`;
  const job = defineJob("write", (env) => {
    const tenv = StreamTableEnvironment.create(env);
    tenv.fromDataStream("src", env.fromElements(asObjects(ROWS)), COLUMNS);
    tenv.executeSql(`${table("out_fs")}; INSERT INTO out_fs SELECT * FROM src`);
  });
  await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 });
  const read = `${table("in_fs")}; CREATE TABLE back (${COLUMNS}) WITH ('connector' = 'print');
    INSERT INTO back SELECT * FROM in_fs`;
  const out = await runToCompletion(sqlJob("read", read), { clock: new ManualClock(), parallelism: 3 });
  return { dir, rows: foldChangelog(out.get("back") ?? []) };
}

function asObjects(rows: readonly Row[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(NAMES.map((n, i) => [n, r[i]])));
}
const byId = (a: unknown, b: unknown) => (a as { id: number }).id - (b as { id: number }).id;

describe("the filesystem connector", () => {
  for (const format of ["csv", "json"]) {
    it(`writes ${format} files that its source reads back unchanged, partitioned or not`, async () => {
      for (const partitioned of [false, true]) {
        const { dir, rows } = await roundTrip(format, partitioned);
        expect([...rows].sort(byId)).toEqual(asObjects(ROWS));
        const top = readdirSync(dir).filter((f) => !f.startsWith("."));
        if (partitioned) expect(top.sort()).toEqual(["part=__DEFAULT_PARTITION__", "part=a", "part=b%3Ac%2Fd"]);
        else expect(top.every((f) => f.endsWith(`.${format}`))).toBe(true);
      }
    });
  }

  it("writes CSV as Flink does: timestamps as text, NULL empty, an empty string quoted", async () => {
    const { dir } = await roundTrip("csv", false);
    const lines = readdirSync(dir)
      .filter((f) => f.endsWith(".csv"))
      .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
      .sort();
    expect(lines).toEqual([
      "1,plain,1.5,true,2015-07-15 08:30:00.007,a",
      '2,"with ""quotes"", and commas",-2,false,1970-01-01 00:00:00.000,b:c/d',
      '3,"",,,,',
      "4,,0.25,true,2024-02-29 00:00:00.000,a",
    ]);
  });

  it("makes a file visible only when the checkpoint of its epoch completes, and commits it once", async () => {
    const dir = tmp();
    const { catalog } = planSql(
      `CREATE TABLE t (id BIGINT, part VARCHAR) PARTITIONED BY (part) WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'csv')`,
    );
    const sink = filesystemSink(catalog.table("t", { line: 1, column: 1 }));
    const h = await OperatorHarness.create((s: DataStream<Row>) => s.addSink(sink));
    const visible = () =>
      ["x", "y"].flatMap((p) =>
        existsSync(join(dir, `part=${p}`))
          ? readdirSync(join(dir, `part=${p}`)).flatMap((f) =>
              readFileSync(join(dir, `part=${p}`, f), "utf8")
                .split("\n")
                .filter(Boolean),
            )
          : [],
      );
    await h.processElements([
      [1, "x"],
      [2, "y"],
    ]);
    await h.checkpoint(1);
    await h.processElements([[3, "x"]]);
    await h.checkpoint(2);
    expect(visible()).toEqual([]); // staged and pre-committed, not visible
    await h.notifyCheckpointComplete(1);
    expect(visible().sort()).toEqual(["1", "2"]);
    await h.restart(); // a restore commits again what checkpoint 2 pre-committed: idempotent
    await h.notifyCheckpointComplete(2);
    await h.notifyCheckpointComplete(2);
    expect(visible().sort()).toEqual(["1", "2", "3"]);
    expect(readdirSync(join(dir, ".staging"))).toEqual([]);
  });

  it("refuses bad options at plan time, naming them", () => {
    const dir = tmp();
    const plan =
      (options: string, columns = "id BIGINT") =>
      () =>
        planSql(`CREATE TABLE s (${columns}) WITH ('connector' = 'filesystem', ${options});
        CREATE TABLE p (id BIGINT) WITH ('connector' = 'print'); INSERT INTO p SELECT id FROM s`);
    expect(plan(`'path' = '${dir}'`)).toThrow(/needs 'format' = 'csv' or 'json'/);
    expect(plan(`'path' = '${dir}', 'format' = 'avro'`)).toThrow(/got 'avro'/);
    expect(plan(`'format' = 'csv'`)).toThrow(/needs a 'path'/);
    expect(plan(`'path' = '${dir}/nowhere', 'format' = 'csv'`)).toThrow(/no file or directory/);
    expect(plan(`'path' = '${dir}', 'format' = 'csv', 'sink.parallelism' = '3'`)).toThrow(
      /has no option 'sink.parallelism'/,
    );
    expect(plan(`'path' = '${dir}', 'format' = 'csv'`)).not.toThrow();
    expect(plan(`'path' = '${dir}/nowhere', 'format' = 'csv'`)).toThrow(SqlError);
  });

  it("reports a malformed file with its name and line", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.csv"), "1\nx\n");
    const job = sqlJob(
      "bad",
      `CREATE TABLE s (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'csv');
       CREATE TABLE p (id BIGINT) WITH ('connector' = 'print'); INSERT INTO p SELECT id FROM s`,
    );
    await expect(runToCompletion(job, { clock: new ManualClock() })).rejects.toThrow(/a\.csv:2: 'x' is not a number/);
  });

  it("refuses an updating query into a filesystem table", () => {
    const dir = tmp();
    expect(() =>
      planSql(`CREATE TABLE g (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
        CREATE TABLE f (id BIGINT, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json');
        INSERT INTO f SELECT id, COUNT(*) FROM g GROUP BY id`),
    ).toThrow(/accepts only \[\+I\]/);
  });
});
