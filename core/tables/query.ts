/**
 * Batch SQL over a job's dynamic tables at one checkpoint (`riffle query`,
 * `POST /jobs/{job}/query`). The query is planned by the SQL layer against the tables
 * sealed at that checkpoint; the snapshot of every table it names is read at that same
 * checkpoint, and the query runs as a bounded job on the embedded runtime (the same
 * operators as a streaming job: one engine for stream and batch). Its committed
 * changelog, folded, is the answer.
 */

import { defineJob } from "../api/environment.ts";
import { canonicalRows, resultFingerprint } from "../governance/fingerprint.ts";
import type { Principal } from "../governance/principal.ts";
import { applyGovernance, type GovernanceReport } from "../governance/rewrite.ts";
import type { SealedCheckpoint, TableSpec } from "../ports/table-store.ts";
import { runToCompletion } from "../runtime/run-to-completion.ts";
import { foldChangelog } from "../sql/changelog.ts";
import type { Rel } from "../sql/logical.ts";
import { uidSequence } from "../sql/physical.ts";
import { SqlSession } from "../sql/session.ts";
import { Table } from "../sql/table-env.ts";
import { type ReadAt, resolveAt, snapshotRows, specAt, type TableReadContext } from "./read.ts";
import { tableColumns } from "./specs.ts";

/** A query's answer. */
export interface QueryAnswer {
  /** The checkpoint every table was read at. */
  readonly checkpoint: number;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  /** Table rows read (the snapshots of the tables the query names). */
  readonly scanned: number;
  /** A governed query's principal. */
  readonly principal?: string;
  /** A governed query's result fingerprint (traceable exports: `core/governance/fingerprint.ts`). */
  readonly fingerprint?: string;
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

/** Who asks a query, and where what governance applied is reported (row policies, masks: `core/governance/`). */
export interface QueryReader {
  readonly principal: Principal;
  readonly applied?: (report: GovernanceReport) => void;
}

/**
 * Runs `sql` over the job's tables, every one read at the same checkpoint (`where`,
 * default the newest). With `reader`, every scan is governed for its principal (row
 * policy, masks, classified columns masked without `unmask`) and the answer carries the
 * principal and the result's fingerprint.
 */
export async function queryAt(
  ctx: TableReadContext,
  sql: string,
  where: ReadAt = {},
  reader?: QueryReader,
): Promise<QueryAnswer> {
  const sealed = await resolveAt(ctx, where);
  const specs = queryTables(sealed, sql);
  const inputs = await Promise.all(
    specs.map(async (s) => ({
      spec: specAt(ctx, sealed, s.name),
      rows: await snapshotRows(ctx, s, sealed.checkpoint),
    })),
  );
  const session = new SqlSession();
  for (const t of sealed.tables) {
    session.execute(`CREATE TABLE \`${t.name}\` (${tableColumns(t)}) WITH ('connector' = 'datastream')`);
    session.streamTables.add(t.name);
  }
  if (reader) {
    const { governanceFor } = await import("./governed-read.ts");
    const defs = specs.map((s) => session.catalog.table(s.name, { line: 0, column: 0 }));
    const governance = await governanceFor(ctx, sealed, reader.principal, defs);
    session.rewrite = (rel) => {
      const governed = applyGovernance(rel, governance);
      reader.applied?.(governed.report);
      return governed.rel;
    };
  }
  const plan = session.query(sql).optimized;
  const columns = plan.fields.map((f) => f.name);
  const job = defineJob(`${ctx.job}-query`, (env) => {
    env.setParallelism(1);
    const streams = new Map(inputs.map(({ spec, rows }) => [spec.name, env.fromElements(rows)]));
    new Table(plan, { env, ...uidSequence("query"), streams }).toChangelogStream().sinkTo("result");
  });
  const out = await runToCompletion(job);
  const rows = foldChangelog(out.get("result") ?? []);
  const scanned = inputs.reduce((n, i) => n + i.rows.length, 0);
  const answer = { checkpoint: sealed.checkpoint, columns, rows, scanned };
  if (!reader) return answer;
  const name = reader.principal.name;
  const ordered = canonicalRows(rows);
  return {
    ...answer,
    rows: ordered,
    principal: name,
    fingerprint: resultFingerprint(name, sql, sealed.checkpoint, ordered),
  };
}
