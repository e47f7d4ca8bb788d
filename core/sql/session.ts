/**
 * A SQL session: DDL fills its catalog, each `INSERT INTO` becomes an optimized plan checked
 * against its sink, `EXPLAIN` prints plans; {@link sqlJob} makes a riffle job of a script's
 * inserts, and {@link writeInsert} adds one insert to a job being built.
 *
 * @example
 * ```ts
 * const job = sqlJob("q2", readFileSync("q2.sql", "utf8"));
 * ```
 */
import type { DataStream } from "../api/datastream.ts";
import { defineJob, type Job, type StreamExecutionEnvironment } from "../api/environment.ts";
import type { Change } from "./aggregate.ts";
import type { Query, Statement } from "./ast.ts";
import { bindQuery } from "./binder.ts";
import { Catalog } from "./catalog.ts";
import { type ColumnReader, generateObject, generateRecord } from "./codegen.ts";
import { connectorOf, sinkAccepts, sourceOf } from "./connectors.ts";
import { invalid, SqlError, unsupported } from "./errors.ts";
import { describeLogical, describePhysical } from "./explain-plan.ts";
import type { BoundExpr, Row } from "./expr.ts";
import { filesystemSink } from "./filesystem.ts";
import { fusedJoinCalc } from "./join-plan.ts";
import { changelogMode, isUpdating, type Rel, type TableDef, whyUpdating } from "./logical.ts";
import { addMaterialized } from "./materialized.ts";
import { optimize } from "./optimizer.ts";
import { parseSql } from "./parser.ts";
import { calcOverNativeScan, insertOnlyCalc, type TranslateContext, translate, uidSequence } from "./physical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { connectorFor, writeRegisteredSink } from "./registered-table.ts";
import { isRemoteTarget, remoteScalar } from "./remote-udf.ts";
import { RIFFLE_CONNECTOR, writeRiffleTable } from "./riffle-table.ts";
import { assignable, isNumeric, showType, VARCHAR } from "./types.ts";
import { loadFunction, withFunctions } from "./udf.ts";

/** One `INSERT INTO`, planned. */
export interface PlannedInsert {
  readonly sink: TableDef;
  /** The plan as bound. */
  readonly logical: Rel;
  /** The plan after the optimizer's rules. */
  readonly optimized: Rel;
  /** Whether group aggregates, TopN and deduplication take mini-batches (`table.exec.mini-batch.enabled`). */
  readonly miniBatch: boolean;
}

/** A planned script. */
export interface SqlProgram {
  readonly catalog: Catalog;
  readonly inserts: readonly PlannedInsert[];
  /** The output of each `EXPLAIN`, in order. */
  readonly explains: readonly string[];
}

/** The connector of tables whose rows come from a DataStream (see `StreamTableEnvironment`). */
export const DATASTREAM_CONNECTOR = "datastream";

/**
 * The options `SET` takes, with their defaults. `table.exec.mini-batch.enabled`: a group
 * aggregate, a TopN and a deduplication take the changes of one input envelope per key at once
 * and emit one change per key for them (Flink's mini-batch). riffle reads an envelope in one
 * batch anyway, so this adds no latency and is on by default; `'false'` emits changes per row.
 */
export const SQL_OPTIONS: Readonly<Record<string, "true" | "false">> = { "table.exec.mini-batch.enabled": "true" };

/** Options of a {@link SqlSession}. */
export interface SessionOptions {
  /** See {@link SqlSession.rewrite}. */
  readonly rewrite?: (rel: Rel) => Rel;
}

/** A catalog and the statements run against it. */
export class SqlSession {
  readonly catalog = new Catalog();
  /** Names of the `datastream` tables that have a stream behind them. */
  readonly streamTables = new Set<string>();
  /**
   * Applied to every bound query before the optimizer: governed access
   * (`core/governance/rewrite.ts`) sets it to filter and mask every table scan.
   */
  rewrite: ((rel: Rel) => Rel) | undefined;
  /** Options set with `SET 'key' = 'value'` (see {@link SQL_OPTIONS}). */
  private readonly options = new Map(Object.entries(SQL_OPTIONS));

  constructor(options: SessionOptions = {}) {
    this.rewrite = options.rewrite;
  }

  /** Runs `text`'s statements; every mistake is a {@link SqlError} with line and column. */
  execute(text: string): { inserts: PlannedInsert[]; explains: string[] } {
    const inserts: PlannedInsert[] = [];
    const explains: string[] = [];
    const statements = parseSql(text);
    withFunctions(this.catalog.functions, () => {
      for (const s of statements) this.run(s, inserts, explains);
    });
    return { inserts, explains };
  }

  /** Binds and optimizes the one query of `text`. */
  query(text: string): { logical: Rel; optimized: Rel } {
    const statements = parseSql(text);
    const s = statements[0];
    if (statements.length !== 1 || s?.kind !== "query")
      throw new SqlError("validation", s?.pos, "sqlQuery takes one SELECT (use executeSql for other statements)");
    return withFunctions(this.catalog.functions, () => {
      const logical = this.bind(s.query);
      const optimized = optimize(logical);
      this.checkSources(optimized);
      return { logical, optimized };
    });
  }

  private run(s: Statement, into: PlannedInsert[], explains: string[]): void {
    switch (s.kind) {
      case "create-table":
        this.catalog.addTable(s);
        return;
      case "create-view":
        this.catalog.addView(s);
        return;
      case "insert":
        into.push(this.planInsert(s));
        return;
      case "create-materialized-table":
        addMaterialized(this.catalog, s);
        into.push(this.planInsert({ kind: "insert", table: s.name, query: s.query, pos: s.pos }));
        return;
      case "statement-set":
        for (const i of s.inserts) this.run(i, into, explains);
        return;
      case "explain": {
        const planned: PlannedInsert[] = [];
        this.run(s.statement, planned, explains);
        if (planned.length === 0) throw unsupported(s.pos, "EXPLAIN of anything but INSERT INTO or a statement set");
        explains.push(planned.map(explain).join("\n"));
        return;
      }
      case "set":
        this.set(s);
        return;
      case "create-function":
        this.catalog.addFunction(
          s.name,
          isRemoteTarget(s.className, s.language)
            ? remoteScalar(s.name, s.className, s.params, s.returns, s.pos)
            : loadFunction(s.name, s.className, s.pos),
          s.pos,
        );
        return;
      case "query":
        throw unsupported(s.pos, "a SELECT without INSERT INTO (insert into a 'print' table to see its rows)");
      default:
        throw unsupported(s.pos, `${s.kind.toUpperCase().replace("-", " ")}`);
    }
  }

  /** `SET 'key' = 'value'`: one of {@link SQL_OPTIONS}, to 'true' or 'false'. */
  private set(s: Extract<Statement, { kind: "set" }>): void {
    if (!(s.key in SQL_OPTIONS))
      throw unsupported(s.pos, `SET '${s.key}' (the options are: ${Object.keys(SQL_OPTIONS).join(", ")})`);
    if (s.value !== "true" && s.value !== "false")
      throw invalid(s.pos, `'${s.key}' is 'true' or 'false', not '${s.value}'`);
    this.options.set(s.key, s.value);
  }

  private planInsert(s: Extract<Statement, { kind: "insert" }>): PlannedInsert {
    if (s.overwrite)
      throw unsupported(
        s.pos,
        "INSERT OVERWRITE (a job appends to its sink or upserts it by key; to correct a layer, restore the fixed job with a replay of the table below it: riffleTableSource's `replay`)",
      );
    const sink = this.catalog.table(s.table, s.pos);
    if (s.columns) throw unsupported(s.pos, "INSERT INTO with a column list");
    const logical = castToStrings(this.bind(s.query), sink);
    const want = sink.physical;
    if (logical.fields.length !== want.length)
      throw invalid(
        s.pos,
        `the query gives ${logical.fields.length} column(s) but table '${sink.name}' has ${want.length}`,
      );
    want.forEach((f, i) => {
      const got = logical.fields[i]?.type;
      if (got && !assignable(got, f.type))
        throw invalid(
          s.pos,
          `type mismatch: column ${i + 1} '${f.name}' of table '${sink.name}' is ${showType(f.type)}, but the query gives ${showType(got)}`,
        );
    });
    const optimized = optimize(logical);
    this.checkSources(optimized);
    const mode = changelogMode(optimized);
    const accepts = sinkAccepts(sink);
    if (mode.some((k) => !accepts.includes(k))) {
      throw new SqlError(
        "changelog",
        s.pos,
        `table '${sink.name}' (connector '${connectorOf(sink)}') accepts only [${accepts.join(", ")}], but the query produces [${mode.join(", ")}]: ${whyUpdating(optimized)}`,
      );
    }
    return { sink, logical, optimized, miniBatch: this.options.get("table.exec.mini-batch.enabled") === "true" };
  }

  private bind(q: Query): Rel {
    const rel = bindQuery(q, this.catalog);
    return this.rewrite ? this.rewrite(rel) : rel;
  }

  /** Opens (without reading) every source of `rel`, so that a bad connector or option fails at plan time. */
  private checkSources(rel: Rel): void {
    if (rel.kind === "scan") {
      if (connectorOf(rel.table) !== DATASTREAM_CONNECTOR) sourceOf(rel.table);
      else if (!this.streamTables.has(rel.table.name))
        throw invalid(
          rel.table.pos,
          `table '${rel.table.name}' has no DataStream behind it (register one with fromDataStream)`,
        );
    } else if (rel.kind === "join") {
      this.checkSources(rel.left);
      this.checkSources(rel.right);
    } else this.checkSources(rel.input);
  }
}

/**
 * `rel` with its numbers cast to VARCHAR where the sink's column is VARCHAR, as an INSERT's
 * implicit conversion (the public q6 inserts a BIGINT seller into a VARCHAR column).
 */
function castToStrings(rel: Rel, sink: TableDef): Rel {
  const casts = rel.fields.map((f, i) => isNumeric(f.type) && sink.physical[i]?.type.kind === "VARCHAR");
  if (!casts.includes(true)) return rel;
  const projects = rel.fields.map((f, index): BoundExpr => {
    const column: BoundExpr = { kind: "input", index, type: f.type };
    return casts[index] ? { kind: "cast", expr: column, type: VARCHAR } : column;
  });
  const fields = rel.fields.map((f, i) => ({ name: f.name, type: (projects[i] as BoundExpr).type }));
  return { kind: "calc", input: rel, projects, fields };
}

/** Parses and plans `text` in a new session; every mistake is a {@link SqlError} with line and column. */
export function planSql(text: string, options?: SessionOptions): SqlProgram {
  const session = new SqlSession(options);
  return { catalog: session.catalog, ...session.execute(text) };
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
 * Adds one planned insert to the job `ctx` builds. A `print` table is a sink of the same name
 * whose records are objects keyed by the table's columns (`{kind, row}` when the query
 * updates); a `blackhole` table commits nothing; a `filesystem` table writes files exactly once.
 */
export function writeInsert(p: PlannedInsert, ctx: TranslateContext): void {
  const build = { ...ctx, miniBatch: p.miniBatch };
  const connector = connectorOf(p.sink);
  const names = p.sink.physical.map((f) => f.name);
  const top = p.optimized;
  if ((connector === "print" || connector === "blackhole") && isPlainCalc(top)) {
    // The query's last calc makes the sink's records itself.
    const make = (exprs: readonly BoundExpr[], columns?: ColumnReader) => generateObject(names, exprs, columns);
    const records =
      fusedJoinCalc(top, build, translate, make) ??
      calcOverNativeScan(top, build, ctx.uid, make) ??
      insertOnlyCalc(top, translate(top.input, build) as DataStream<Row>, ctx.uid, make);
    printOrDiscard(p.sink, records as DataStream<unknown>, ctx);
    return;
  }
  const stream = translate(top, build);
  if (connector === "filesystem") {
    (stream as DataStream<Row>).addSink(filesystemSink(p.sink)).uid(ctx.uid());
    return;
  }
  const record = generateRecord(p.sink.physical);
  const out = isUpdating(changelogMode(top))
    ? (stream as DataStream<Change>).map((c) => ({ kind: c.kind, row: record(c.row) }))
    : (stream as DataStream<Row>).map(record);
  out.uid(ctx.uid());
  const registered = connectorFor(p.sink);
  if (registered) writeRegisteredSink(p.sink, registered, out as DataStream<unknown>, ctx.uid);
  else if (connector === RIFFLE_CONNECTOR) writeRiffleTable(p.sink, out as DataStream<unknown>, ctx.uid());
  else printOrDiscard(p.sink, out as DataStream<unknown>, ctx);
}

/** A `print` table's records go to the sink of its name; a `blackhole` table's nowhere. */
function printOrDiscard(sink: TableDef, out: DataStream<unknown>, ctx: TranslateContext): void {
  if (connectorOf(sink) === "blackhole")
    out
      .flatMap(() => [])
      .uid(ctx.uid())
      .sinkTo(sink.name);
  else out.sinkTo(sink.name);
}

/**
 * A riffle job running the script's inserts; `configure` may set up the environment first
 * (checkpointing, batch sizes). Throws a {@link SqlError} when the script has no insert.
 */
export function sqlJob(name: string, text: string, configure?: (env: StreamExecutionEnvironment) => void): Job {
  const program = planSql(text);
  if (program.inserts.length === 0) throw new SqlError("validation", undefined, "the script has no INSERT INTO to run");
  return defineJob(name, (env) => {
    configure?.(env);
    const ctx: TranslateContext = { env, ...uidSequence("sql") };
    for (const p of program.inserts) writeInsert(p, ctx);
  });
}
