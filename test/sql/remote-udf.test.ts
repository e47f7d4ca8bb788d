/**
 * Remote scalar functions in SQL: `CREATE FUNCTION f(TYPE) RETURNS TYPE AS '<url or
 * ARN>' LANGUAGE PYTHON` runs a Python function of the SDK (kind `scalar`) in the
 * SELECT list, in WHERE and in a grouping key, answered in batches; a wrong call, a
 * missing signature or a remote call over an updating input fails at plan time.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGraph } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type PythonFunction, startPythonFunction } from "../support/python-function.ts";

let fn: PythonFunction;
beforeAll(async () => {
  fn = await startPythonFunction("test/fixtures/remote_counter.py");
});
afterAll(() => fn?.stop());

const GEN = `CREATE TABLE gen (id BIGINT, name VARCHAR) WITH ('connector' = 'datagen', 'number-of-rows' = '60',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '60', 'fields.name.length' = '6')`;
const fnDdl = (url: string) => `CREATE FUNCTION shout(STRING) RETURNS STRING AS '${url}' LANGUAGE PYTHON`;

/** The message of what planning (and building the job's graph from) `sql` throws. */
function planError(sql: string): string {
  try {
    buildGraph(sqlJob("remote-udf", sql));
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("remote functions in SQL", () => {
  it("calls a Python scalar function in SELECT and WHERE", async () => {
    const script = `${fnDdl(fn.url)};
      ${GEN};
      CREATE TABLE p (id BIGINT, loud VARCHAR, name VARCHAR) WITH ('connector' = 'print');
      INSERT INTO p SELECT id, shout(name), name FROM gen WHERE shout(name) <> name`;
    const out = await runToCompletion(sqlJob("remote-udf", script), { clock: new ManualClock() });
    const rows = foldChangelog(out.get("p") ?? []);
    expect(rows).toHaveLength(60); // datagen's names are lower-case letters: shout changes every one
    for (const r of rows) expect(r.loud).toBe((r.name as string).toUpperCase());
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(Array.from({ length: 60 }, (_, i) => i + 1)));
  }, 60_000);

  it("refuses at plan time a wrong number of arguments, an unknown function and a missing signature", () => {
    const url = "http://127.0.0.1:9/";
    const sink = "CREATE TABLE p (s VARCHAR) WITH ('connector' = 'print')";
    expect(planError(`${fnDdl(url)}; ${GEN}; ${sink}; INSERT INTO p SELECT shout(name, name) FROM gen`)).toMatch(
      /function 'shout' takes 1 argument\(s\), got 2/,
    );
    expect(planError(`${fnDdl(url)}; ${GEN}; ${sink}; INSERT INTO p SELECT whisper(name) FROM gen`)).toMatch(
      /whisper/i,
    );
    expect(() => planSql(`CREATE FUNCTION shout AS '${url}' LANGUAGE PYTHON`)).toThrow(
      /remote function 'shout' needs its signature/,
    );
    expect(() =>
      planSql("CREATE FUNCTION f(STRING) RETURNS STRING AS 'arn:aws:lambda:us-east-1:1:function:f'"),
    ).not.toThrow();
  });

  it("batches a grouping key's remote call, and refuses one over an updating input at plan time", () => {
    const sink = "CREATE TABLE p (s VARCHAR, n BIGINT) WITH ('connector' = 'print')";
    const head = `${fnDdl("http://127.0.0.1:9/")}; ${GEN}; ${sink}`;
    expect(planError(`${head}; INSERT INTO p SELECT shout(name), COUNT(*) FROM gen GROUP BY shout(name)`)).toBe(
      "no error",
    );
    const updating = `${head}; INSERT INTO p SELECT shout(name), n FROM (SELECT name, COUNT(*) AS n FROM gen GROUP BY name)`;
    expect(planError(updating)).toMatch(/remote function 'shout' here .*is not supported yet/);
  });
});
