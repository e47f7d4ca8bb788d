/**
 * A SQL script, planned: DDL fills the catalog, each `INSERT INTO` becomes an optimized plan
 * checked against its sink, `EXPLAIN` prints plans, and {@link sqlJob} makes a riffle job of
 * the inserts.
 *
 * @example
 * ```ts
 * const job = sqlJob("q2", readFileSync("q2.sql", "utf8"));
 * ```
 */
import type { DataStream } from "../api/datastream.ts";
import { defineJob, type Job } from "../api/environment.ts";
import type { Change } from "./aggregate.ts";
import type { Statement } from "./ast.ts";
import { bindQuery } from "./binder.ts";
import { Catalog } from "./catalog.ts";
import { connectorOf, sinkAccepts, sourceOf } from "./connectors.ts";
import { invalid, SqlError, unsupported } from "./errors.ts";
import type { Row } from "./expr.ts";
import { changelogMode, isUpdating, type Rel, type TableDef } from "./logical.ts";
import { optimize } from "./optimizer.ts";
import { parseSql } from "./parser.ts";
import { describeLogical, describePhysical, translate } from "./physical.ts";
import { assignable, showType } from "./types.ts";

/** One `INSERT INTO`, planned. */
export interface PlannedInsert {
  readonly sink: TableDef;
  /** The plan as bound. */
  readonly logical: Rel;
  /** The plan after the optimizer's rules. */
  readonly optimized: Rel;
}

/** A planned script. */
export interface SqlProgram {
  readonly catalog: Catalog;
  readonly inserts: readonly PlannedInsert[];
  /** The output of each `EXPLAIN`, in order. */
  readonly explains: readonly string[];
}

/** Parses and plans `text`; every mistake is a {@link SqlError} with line and column. */
export function planSql(text: string): SqlProgram {
  const catalog = new Catalog();
  const inserts: PlannedInsert[] = [];
  const explains: string[] = [];
  const run = (s: Statement, into: PlannedInsert[]) => {
    switch (s.kind) {
      case "create-table":
        catalog.addTable(s);
        return;
      case "create-view":
        catalog.addView(s);
        return;
      case "insert":
        into.push(planInsert(s, catalog));
        return;
      case "statement-set":
        for (const i of s.inserts) run(i, into);
        return;
      case "explain": {
        const planned: PlannedInsert[] = [];
        run(s.statement, planned);
        if (planned.length === 0) throw unsupported(s.pos, "EXPLAIN of anything but INSERT INTO or a statement set");
        explains.push(planned.map(explain).join("\n"));
        return;
      }
      case "create-function":
        throw unsupported(s.pos, `CREATE FUNCTION (user-defined function '${s.className}')`);
      case "query":
        throw unsupported(s.pos, "a SELECT without INSERT INTO (insert into a 'print' table to see its rows)");
      default:
        throw unsupported(s.pos, `${s.kind.toUpperCase().replace("-", " ")}`);
    }
  };
  for (const s of parseSql(text)) run(s, inserts);
  return { catalog, inserts, explains };
}

function planInsert(s: Extract<Statement, { kind: "insert" }>, catalog: Catalog): PlannedInsert {
  const sink = catalog.table(s.table, s.pos);
  if (s.columns) throw unsupported(s.pos, "INSERT INTO with a column list");
  const logical = bindQuery(s.query, catalog);
  const want = sink.physical;
  if (logical.fields.length !== want.length)
    throw invalid(
      s.pos,
      `the query gives ${logical.fields.length} column(s) but table '${sink.name}' has ${want.length}`,
    );
  want.forEach((f, i) => {
    const got = (logical.fields[i] as { type: import("./types.ts").SqlType }).type;
    if (!assignable(got, f.type))
      throw invalid(
        s.pos,
        `type mismatch: column ${i + 1} '${f.name}' of table '${sink.name}' is ${showType(f.type)}, but the query gives ${showType(got)}`,
      );
  });
  const optimized = optimize(logical);
  checkSources(optimized);
  const mode = changelogMode(optimized);
  const accepts = sinkAccepts(sink);
  const refused = mode.filter((k) => !accepts.includes(k));
  if (refused.length > 0) {
    throw new SqlError(
      "changelog",
      s.pos,
      `table '${sink.name}' (connector '${connectorOf(sink)}') accepts only [${accepts.join(", ")}], but the query produces [${mode.join(", ")}]: an aggregate retracts its earlier results`,
    );
  }
  return { sink, logical, optimized };
}

/** Opens (without reading) every source of `rel`, so that a bad connector or option fails at plan time. */
function checkSources(rel: Rel): void {
  if (rel.kind === "scan") sourceOf(rel.table);
  else if (rel.kind === "join") {
    checkSources(rel.left);
    checkSources(rel.right);
  } else checkSources(rel.input);
}

/** EXPLAIN's text for one insert: logical plan, optimized plan, physical plan with changelog modes. */
export function explain(p: PlannedInsert): string {
  const sink = `Sink(table=[${p.sink.name}], connector=[${connectorOf(p.sink)}], accepts=[${sinkAccepts(p.sink).join(",")}])`;
  return [
    "== Logical Plan ==",
    `LogicalSink(table=[${p.sink.name}])`,
    ...describeLogical(p.logical, 1),
    "",
    "== Optimized Logical Plan ==",
    `LogicalSink(table=[${p.sink.name}])`,
    ...describeLogical(p.optimized, 1),
    "",
    "== Physical Plan ==",
    sink,
    ...describePhysical(p.optimized, 1),
    "",
  ].join("\n");
}

/**
 * A riffle job running the script's inserts. Each `print` table is a sink of the same name whose
 * records are objects keyed by the table's columns (`{kind, row}` when the query updates);
 * `blackhole` tables commit nothing. Throws a {@link SqlError} when the script has no insert.
 */
export function sqlJob(name: string, text: string): Job {
  const program = planSql(text);
  if (program.inserts.length === 0) throw new SqlError("validation", undefined, "the script has no INSERT INTO to run");
  return defineJob(name, (env) => {
    let n = 0;
    const uid = () => `sql-${n++}`;
    for (const p of program.inserts) {
      const stream = translate(p.optimized, env, uid);
      const names = p.sink.physical.map((f) => f.name);
      const record = (row: Row) => Object.fromEntries(names.map((c, i) => [c, row[i]]));
      const out = isUpdating(changelogMode(p.optimized))
        ? (stream as DataStream<Change>).map((c) => ({ kind: c.kind, row: record(c.row) }))
        : (stream as DataStream<Row>).map(record);
      if (connectorOf(p.sink) === "blackhole")
        out
          .uid(uid())
          .flatMap(() => [])
          .uid(uid())
          .sinkTo(p.sink.name);
      else out.uid(uid()).sinkTo(p.sink.name);
    }
  });
}
