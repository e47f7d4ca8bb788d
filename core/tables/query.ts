/**
 * Batch SQL over a job's dynamic tables at one checkpoint (`riffle query`,
 * `POST /jobs/{job}/query`). The query is planned by the SQL layer against the tables
 * sealed at that checkpoint; the snapshot of every table it names is read at that same
 * checkpoint, and the query runs as a bounded job on the embedded runtime (the same
 * operators as a streaming job: one engine for stream and batch). Its committed
 * changelog, folded, is the answer.
 */

import { defineJob } from "../api/environment.ts";
import type { SealedCheckpoint, TableSpec } from "../ports/table-store.ts";
import { runToCompletion } from "../runtime/run-to-completion.ts";
import { foldChangelog } from "../sql/changelog.ts";
import type { Rel } from "../sql/logical.ts";
import { SqlSession } from "../sql/session.ts";
import { StreamTableEnvironment } from "../sql/table-env.ts";
import { type ReadAt, resolveAt, snapshotRows, specAt, type TableReadContext } from "./read.ts";

/** A query's answer. */
export interface QueryAnswer {
  /** The checkpoint every table was read at. */
  readonly checkpoint: number;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  /** Table rows read (the snapshots of the tables the query names). */
  readonly scanned: number;
}

/** The `CREATE TABLE` column list of `spec` (its columns and primary key). */
export function tableColumns(spec: TableSpec): string {
  const pk = spec.primaryKey ? `, PRIMARY KEY (${spec.primaryKey.map((c) => `\`${c}\``).join(", ")}) NOT ENFORCED` : "";
  return spec.columns + pk;
}

/** The names of the tables `rel` scans. */
function scanned(rel: Rel, into: Set<string>): Set<string> {
  if (rel.kind === "scan") into.add(rel.table.name);
  else if (rel.kind === "join") {
    scanned(rel.left, into);
    scanned(rel.right, into);
  } else {
    if (rel.kind === "lookup-join") into.add(rel.table.name);
    scanned(rel.input, into);
  }
  return into;
}

/** The tables `sql` reads, planned against the tables of `sealed` (a mistake is a `SqlError`). */
export function queryTables(sealed: SealedCheckpoint, sql: string): TableSpec[] {
  const session = new SqlSession();
  for (const t of sealed.tables) {
    session.execute(`CREATE TABLE \`${t.name}\` (${tableColumns(t)}) WITH ('connector' = 'datastream')`);
    session.streamTables.add(t.name);
  }
  const names = scanned(session.query(sql).optimized, new Set());
  return sealed.tables.filter((t) => names.has(t.name));
}

/** Runs `sql` over the job's tables, every one read at the same checkpoint (`where`, default the newest). */
export async function queryAt(ctx: TableReadContext, sql: string, where: ReadAt = {}): Promise<QueryAnswer> {
  const sealed = await resolveAt(ctx, where);
  const specs = queryTables(sealed, sql);
  const inputs = await Promise.all(
    specs.map(async (s) => ({
      spec: specAt(ctx, sealed, s.name),
      rows: await snapshotRows(ctx, s, sealed.checkpoint),
    })),
  );
  let columns: readonly string[] = [];
  const job = defineJob(`${ctx.job}-query`, (env) => {
    env.setParallelism(1);
    const tenv = StreamTableEnvironment.create(env, { uidPrefix: "query" });
    for (const { spec, rows } of inputs) tenv.fromDataStream(spec.name, env.fromElements(rows), tableColumns(spec));
    const table = tenv.sqlQuery(sql);
    columns = table.fields.map((f) => f.name);
    table.toChangelogStream().sinkTo("result");
  });
  const out = await runToCompletion(job);
  const rows = foldChangelog(out.get("result") ?? []);
  return { checkpoint: sealed.checkpoint, columns, rows, scanned: inputs.reduce((n, i) => n + i.rows.length, 0) };
}
