/**
 * SQL and DataStream in one job, as Flink's `StreamTableEnvironment`: register a DataStream of
 * objects as a table, run DDL and inserts, turn a query into a {@link Table} and the table back
 * into a DataStream of its changelog.
 *
 * @example
 * ```ts
 * defineJob("mixed", (env) => {
 *   const tenv = StreamTableEnvironment.create(env);
 *   tenv.fromDataStream("clicks", env.fromElements([{ user: "ada", n: 1 }]), "user VARCHAR, n BIGINT");
 *   tenv.sqlQuery("SELECT user, SUM(n) AS total FROM clicks GROUP BY user").toChangelogStream().sinkTo("totals");
 * });
 * ```
 */
import type { DataStream } from "../api/datastream.ts";
import type { StreamExecutionEnvironment } from "../api/environment.ts";
import type { Change } from "./aggregate.ts";
import type { ChangeRecord } from "./changelog.ts";
import { generateRecord } from "./codegen.ts";
import { SqlError } from "./errors.ts";
import { describePhysical } from "./explain-plan.ts";
import type { Row } from "./expr.ts";
import { type ChangelogMode, changelogMode, type Field, isUpdating, type Rel } from "./logical.ts";
import { type TranslateContext, translate, uidSequence } from "./physical.ts";
import { DATASTREAM_CONNECTOR, SqlSession, writeInsert } from "./session.ts";
import { type ScalarFunction, userFunction } from "./udf.ts";

/** The result of a query, not yet part of the job until it is turned into a stream. */
export class Table {
  /** The query's columns. */
  readonly fields: readonly Field[];
  /** The changelog the query produces. */
  readonly mode: ChangelogMode;
  private readonly plan: Rel;
  private readonly ctx: TranslateContext;

  /** @internal */
  constructor(plan: Rel, ctx: TranslateContext) {
    this.plan = plan;
    this.ctx = ctx;
    this.fields = plan.fields;
    this.mode = changelogMode(plan);
  }

  /** The physical plan, with each operator's changelog mode. */
  explain(): string {
    return describePhysical(this.plan).join("\n");
  }

  /** The query's changelog: `{kind, row}` records, rows keyed by column name (+I only for an insert-only query). */
  toChangelogStream(): DataStream<ChangeRecord> {
    const record = this.record();
    const stream = translate(this.plan, this.ctx);
    const out = isUpdating(this.mode)
      ? (stream as DataStream<Change>).map((c): ChangeRecord => ({ kind: c.kind, row: record(c.row) }))
      : (stream as DataStream<Row>).map((r): ChangeRecord => ({ kind: "+I", row: record(r) }));
    return out.uid(this.ctx.uid());
  }

  /** The query's rows, keyed by column name; a query that updates is refused (use {@link toChangelogStream}). */
  toDataStream(): DataStream<Record<string, unknown>> {
    if (isUpdating(this.mode))
      throw new SqlError(
        "changelog",
        undefined,
        `toDataStream takes an insert-only query, but this one produces [${this.mode.join(", ")}]: use toChangelogStream()`,
      );
    return (translate(this.plan, this.ctx) as DataStream<Row>).map(this.record()).uid(this.ctx.uid());
  }

  private record(): (row: Row) => Record<string, unknown> {
    return generateRecord(this.fields);
  }
}

/** A SQL session that builds into one {@link StreamExecutionEnvironment}. */
export class StreamTableEnvironment {
  private readonly session = new SqlSession();
  private readonly streams = new Map<string, DataStream<Record<string, unknown>>>();
  private readonly ctx: TranslateContext;

  private constructor(env: StreamExecutionEnvironment, uidPrefix: string) {
    this.ctx = { env, ...uidSequence(uidPrefix), streams: this.streams };
  }

  /** A table environment over `env`; `uidPrefix` (default `sql`) names its operators' uids. */
  static create(env: StreamExecutionEnvironment, options: { uidPrefix?: string } = {}): StreamTableEnvironment {
    return new StreamTableEnvironment(env, options.uidPrefix ?? "sql");
  }

  /**
   * Registers `stream` (objects keyed by column name) as table `name`; `columns` is the column
   * list of a `CREATE TABLE`, e.g. `"user VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts"`.
   */
  fromDataStream<T extends object>(name: string, stream: DataStream<T>, columns: string): void {
    this.session.execute(`CREATE TABLE \`${name}\` (${columns}) WITH ('connector' = '${DATASTREAM_CONNECTOR}')`);
    this.session.streamTables.add(name);
    this.streams.set(name, stream as unknown as DataStream<Record<string, unknown>>);
  }

  /**
   * Registers a scalar user-defined function under `name` (case-insensitive), as Flink's
   * `createTemporarySystemFunction`: `fn.eval` is called with each row's values, NULLs included.
   */
  createTemporarySystemFunction(name: string, fn: ScalarFunction): void {
    this.session.catalog.addFunction(name, userFunction(name, fn), { line: 0, column: 0 });
  }

  /** Runs DDL and inserts (each insert joins the job); returns what `EXPLAIN` statements printed. */
  executeSql(text: string): readonly string[] {
    const { inserts, explains } = this.session.execute(text);
    for (const p of inserts) writeInsert(p, this.ctx);
    return explains;
  }

  /** The table of one `SELECT`. */
  sqlQuery(text: string): Table {
    return new Table(this.session.query(text).optimized, this.ctx);
  }
}
