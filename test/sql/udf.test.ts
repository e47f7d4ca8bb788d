/**
 * Scalar UDFs: registered with createTemporarySystemFunction or CREATE FUNCTION 'module#export'
 * (and Nexmark's CountChar class), called with NULLs, typed by their resultType; mistakes are
 * SqlErrors with line and column.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { StreamTableEnvironment } from "../../core/sql/table-env.ts";
import { countChar } from "../../core/sql/udf.ts";

const NAMES = `CREATE TABLE names (id BIGINT, name VARCHAR) WITH ('connector' = 'datastream')`;

describe("scalar UDFs", () => {
  it("runs a TypeScript function registered with createTemporarySystemFunction, NULLs included", async () => {
    const job = defineJob("udf", (env) => {
      const tenv = StreamTableEnvironment.create(env);
      tenv.fromDataStream(
        "names",
        env.fromElements([
          { id: 1, name: "ada" },
          { id: 2, name: null },
          { id: 3, name: "grace hopper" },
        ]),
        "id BIGINT, name VARCHAR",
      );
      tenv.createTemporarySystemFunction("vowels", {
        resultType: "INT",
        eval: (s: string | null) => (s === null ? -1 : s.replace(/[^aeiou]/g, "").length),
      });
      tenv
        .sqlQuery("SELECT id, VOWELS(name) AS v, vowels(name) + 1 AS w FROM names WHERE vowels(name) <> 4")
        .toDataStream()
        .sinkTo("out");
    });
    const out = await runToCompletion(job, { clock: new ManualClock() });
    expect(out.get("out")).toEqual([
      { id: 1, v: 2, w: 3 },
      { id: 2, v: -1, w: 0 },
    ]);
  });

  it("loads CREATE FUNCTION … AS 'module#export' and Nexmark's CountChar class", async () => {
    const script = `
      CREATE FUNCTION capitalize AS './test/fixtures/sql/udfs.ts#capitalize';
      CREATE FUNCTION count_char AS 'com.github.nexmark.flink.udf.CountChar';
      CREATE TABLE gen (id BIGINT, name VARCHAR) WITH ('connector' = 'datagen', 'number-of-rows' = '3',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3', 'fields.name.length' = '40');
      CREATE TABLE p (id BIGINT, name VARCHAR, c BIGINT) WITH ('connector' = 'print');
      INSERT INTO p SELECT id, capitalize(name), count_char(name, 'a') FROM gen`;
    const out = await runToCompletion(sqlJob("udf", script), { clock: new ManualClock() });
    const rows = foldChangelog(out.get("p") ?? []);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.name).toMatch(/^[A-Z][a-z]{39}$/);
      expect(r.c).toBe([...(r.name as string).toLowerCase().slice(1)].filter((c) => c === "a").length);
    }
    expect(countChar.eval(null as never, "c" as never)).toBe(0);
  });

  it("names what is wrong: unknown class, missing module or export, no eval, bad resultType, a taken name, arity", () => {
    const err = (sql: string) => {
      try {
        planSql(sql);
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(err("CREATE FUNCTION f AS 'com.example.Foo'")).toMatch(
      /^line 1, column 1: unknown function class 'com.example.Foo'/,
    );
    expect(err("CREATE FUNCTION f AS './test/fixtures/sql/none.ts#f'")).toMatch(
      /cannot load module '.\/test\/fixtures\/sql\/none.ts'/,
    );
    expect(err("CREATE FUNCTION f AS './test/fixtures/sql/udfs.ts#nope'")).toMatch(/has no export 'nope'/);
    expect(err("CREATE FUNCTION f AS './test/fixtures/sql/udfs.ts#broken'")).toMatch(/function 'f' has no eval/);
    expect(err("CREATE FUNCTION upper AS './test/fixtures/sql/udfs.ts#capitalize'")).toMatch(/'upper' already exists/);
    expect(
      err(`CREATE FUNCTION cap AS './test/fixtures/sql/udfs.ts#capitalize';
        ${NAMES}; CREATE TABLE p (n VARCHAR) WITH ('connector' = 'print');
        INSERT INTO p SELECT cap(name, name) FROM names`),
    ).toMatch(/^line 3, column 30: function 'cap' takes 1 argument\(s\), got 2/);
    const tenv = StreamTableEnvironment.create(defineJob("x", () => {}) as never);
    expect(() => tenv.createTemporarySystemFunction("f", { resultType: "MONEY", eval: () => 1 })).toThrow(/type MONEY/);
  });
});
