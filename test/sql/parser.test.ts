/** The SQL grammar: every public Nexmark file parses, the constructs Flink users write parse, and bad SQL gets line, column and what was expected. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Expr, Query, Statement } from "../../core/sql/ast.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { parseSql } from "../../core/sql/parser.ts";

const NEXMARK = join(import.meta.dirname, "nexmark");

function parseError(sql: string): SqlError {
  try {
    parseSql(sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`parsed: ${sql}`);
}

const select = (sql: string) => {
  const [s] = parseSql(sql) as [Statement];
  if (s.kind !== "query" || s.query.kind !== "select") throw new Error("not a SELECT");
  return s.query as Extract<Query, { kind: "select" }>;
};

describe("the public Nexmark SQL", () => {
  const files = readdirSync(NEXMARK).filter((f) => f.endsWith(".sql"));
  it("has every file of the suite", () => {
    expect(files.length).toBe(29);
  });
  for (const f of files) {
    it(`parses ${f}`, () => {
      // ddl_views.sql names its table as the placeholder NEXMARK_TABLE, filled in before parsing.
      const text = readFileSync(join(NEXMARK, f), "utf8").replace(/\$\{NEXMARK_TABLE\}/g, "datagen");
      const statements = parseSql(text);
      expect(statements.length).toBeGreaterThan(0);
    });
  }
});

describe("constructs", () => {
  it("reads CREATE TABLE with ROW types, a computed column, a watermark and options", () => {
    const [t] = parseSql(`CREATE TABLE t (
      id BIGINT, p ROW<\`dateTime\` TIMESTAMP(3), name VARCHAR>, price DECIMAL(23, 3),
      ts AS p.\`dateTime\`, WATERMARK FOR ts AS ts - INTERVAL '4' SECOND
    ) WITH ('connector' = 'nexmark', 'events.num' = '10')`);
    expect(t?.kind).toBe("create-table");
    if (t?.kind !== "create-table") return;
    expect(t.columns.map((c) => `${c.kind}:${c.name}`)).toEqual([
      "physical:id",
      "physical:p",
      "physical:price",
      "computed:ts",
    ]);
    const p = t.columns[1];
    expect(p?.kind === "physical" && p.type.fields?.map((f) => f.name)).toEqual(["dateTime", "name"]);
    expect(t.watermark?.column).toBe("ts");
    expect(t.options).toEqual({ connector: "nexmark", "events.num": "10" });
  });

  it("reads a window TVF, FILTER, DISTINCT, OVER with a ROWS frame and FOR SYSTEM_TIME AS OF", () => {
    const q = select(`SELECT window_start, COUNT(*) FILTER (WHERE price < 10), COUNT(DISTINCT bidder),
        AVG(price) OVER (PARTITION BY auction ORDER BY dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
      FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
      GROUP BY window_start`);
    expect(q.from).toMatchObject({ kind: "tvf", fn: "TUMBLE", table: "bid", descriptor: "dateTime" });
    const [, count, distinct, over] = q.items.map((i) => i.expr) as Extract<Expr, { kind: "call" }>[];
    expect(count).toMatchObject({ name: "COUNT", star: true, filter: { kind: "binary", op: "<" } });
    expect(distinct).toMatchObject({ name: "COUNT", distinct: true });
    expect(over?.over?.frame).toMatchObject({
      unit: "ROWS",
      start: { kind: "preceding" },
      end: { kind: "current-row" },
    });
    const j = select("SELECT * FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.t AS r ON o.c = r.c");
    expect(j.from).toMatchObject({ kind: "join", type: "INNER", right: { kind: "table", name: "rates", alias: "r" } });
  });

  it("reads CASE, CAST, IN, BETWEEN, IS NULL, subqueries, EXPLAIN and a statement set", () => {
    const q = select(
      "SELECT CASE WHEN a IN (1, 2) THEN 'x' ELSE 'y' END, CAST(b AS DOUBLE) FROM t WHERE c BETWEEN 1 AND 2 AND d IS NOT NULL AND e IN (SELECT e FROM u)",
    );
    expect(q.items.map((i) => i.expr.kind)).toEqual(["case", "cast"]);
    const [explain, set] = parseSql(
      "EXPLAIN INSERT INTO s SELECT a FROM t; EXECUTE STATEMENT SET BEGIN INSERT INTO s SELECT a FROM t; INSERT INTO s2 SELECT b FROM t; END",
    );
    expect(explain).toMatchObject({ kind: "explain", statement: { kind: "insert", table: "s" } });
    expect(set?.kind === "statement-set" && set.inserts.length).toBe(2);
  });

  it("keeps identifiers' case, takes keywords in any case, and reads `dateTime` unquoted or quoted", () => {
    const q = select("select `dateTime`, dateTime, `select` from Bid");
    expect(q.items.map((i) => (i.expr.kind === "column" ? i.expr.path[0] : ""))).toEqual([
      "dateTime",
      "dateTime",
      "select",
    ]);
    expect(q.from).toMatchObject({ kind: "table", name: "Bid" });
  });
});

describe("errors", () => {
  it("names line, column and what was expected", () => {
    const e = parseError("SELECT a\nFROM t\nWHERE");
    expect(e.kind).toBe("parse");
    expect(e.message).toBe("line 3, column 6: expected an expression but found end of input");
    expect(parseError("SELECT a FROM t WHERE a = = 1").message).toBe(
      "line 1, column 27: expected an expression but found '='",
    );
    expect(parseError("INSERT INTO s SELECT FROM t").message).toBe(
      "line 1, column 22: expected an expression or '*' but found 'FROM'",
    );
    expect(parseError("SELECT 1;\nSELEC a").message).toMatch(
      /^line 2, column 1: expected a statement \(SELECT, .*\) but found 'SELEC'$/,
    );
    expect(parseError("CREATE TABLE t (a BIGINT").message).toBe(
      "line 1, column 25: expected ')' but found end of input",
    );
    expect(parseError("SELECT a FROM t t2 t3").message).toBe(
      "line 1, column 20: unexpected 't3': expected ';' or end of input",
    );
  });

  it("reports characters no token starts with", () => {
    expect(parseError("SELECT a FROM t\n  WHERE a = #").message).toBe("line 2, column 13: unexpected character '#'");
    expect(parseError("SELECT 'abc FROM t").message).toBe("line 1, column 8: unterminated string");
  });
});
