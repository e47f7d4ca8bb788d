/**
 * A governed batch query over bounded tables: the principal's grants checked, every
 * scan filtered and masked (`rewrite.ts`), the result fingerprinted, and the access
 * audited whatever its outcome. The audit itself is the table `riffle_audit`.
 *
 * @example
 * ```ts
 * const result = await governedQuery({
 *   principal: { name: "north-analyst", grants: ["read:orders"], policies: { orders: { rows: "region = 'north'" } } },
 *   ddl: "CREATE TABLE orders (id BIGINT, region VARCHAR) WITH ('connector' = 'filesystem', 'path' = 'orders.json', 'format' = 'json')",
 *   query: "SELECT region, COUNT(*) AS n FROM orders GROUP BY region",
 *   audit: new InMemoryAuditLog(),
 * });
 * result.rows; // [{ region: "north", n: 2 }]
 * ```
 */
import { defineJob } from "../api/environment.ts";
import type { AuditEntry, AuditLog } from "../ports/audit-log.ts";
import { runToCompletion } from "../runtime/run-to-completion.ts";
import { foldChangelog } from "../sql/changelog.ts";
import { uidSequence } from "../sql/physical.ts";
import { DATASTREAM_CONNECTOR, SqlSession } from "../sql/session.ts";
import { Table } from "../sql/table-env.ts";
import { AUDIT_COLUMNS, auditRow } from "./audit-table.ts";
import { canonicalRows, resultFingerprint } from "./fingerprint.ts";
import { ForbiddenError, type Principal } from "./principal.ts";
import { AUDIT_TABLE, applyGovernance, type GovernanceContext, type GovernanceReport } from "./rewrite.ts";

/** A query and who asks it. */
export interface GovernedQueryOptions {
  readonly principal: Principal;
  /** `CREATE TABLE` / `CREATE VIEW` statements run first. */
  readonly ddl?: string;
  /** One SELECT. */
  readonly query: string;
  /** Where the access is recorded; also what `riffle_audit` reads. */
  readonly audit: AuditLog;
  /** The classifier's findings per table (see {@link GovernanceContext.sensitive}). */
  readonly sensitive?: GovernanceContext["sensitive"];
  /** The checkpoint read, when the tables are snapshots of one. */
  readonly checkpoint?: number;
  /** The route, for the audit (default `sql`). */
  readonly route?: string;
  readonly job?: string;
  /** The clock of the audit entries, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

/** A query's answer: the rows, who read them and the result's fingerprint. */
export interface GovernedResult {
  readonly principal: string;
  readonly fingerprint: string;
  readonly checkpoint?: number;
  /** The result's rows in canonical order (by their JSON), keyed by column name. */
  readonly rows: Record<string, unknown>[];
}

/**
 * Runs `options.query` for `options.principal`; the access is appended to the audit
 * before the answer returns (allowed) or the error is thrown (denied, failed).
 * @throws ForbiddenError when a table the query reads needs a grant the principal lacks
 */
export async function governedQuery(options: GovernedQueryOptions): Promise<GovernedResult> {
  const { principal, query, audit } = options;
  const now = options.now ?? Date.now;
  let report: GovernanceReport = { tables: [], predicates: [], masked: [] };
  const entry = (outcome: AuditEntry["outcome"], more: Partial<AuditEntry>): AuditEntry => ({
    time: now(),
    principal: principal.name,
    route: options.route ?? "sql",
    ...(options.job === undefined ? {} : { job: options.job }),
    ...report,
    rows: 0,
    outcome,
    query,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
    ...more,
  });
  const ctx: GovernanceContext = { principal, ...(options.sensitive ? { sensitive: options.sensitive } : {}) };
  const session = new SqlSession({
    rewrite: (rel) => {
      const governed = applyGovernance(rel, ctx);
      report = governed.report;
      return governed.rel;
    },
  });
  let rows: Record<string, unknown>[];
  try {
    session.execute(`CREATE TABLE ${AUDIT_TABLE} (${AUDIT_COLUMNS}) WITH ('connector' = '${DATASTREAM_CONNECTOR}')`);
    session.streamTables.add(AUDIT_TABLE);
    if (options.ddl) session.execute(options.ddl);
    const plan = session.query(query).optimized;
    const audited = report.tables.includes(AUDIT_TABLE) ? (await audit.read()).map(auditRow) : [];
    const job = defineJob("governed-query", (env) => {
      const streams = new Map([[AUDIT_TABLE, env.fromElements(audited)]]);
      new Table(plan, { env, ...uidSequence("q"), streams }).toChangelogStream().sinkTo("result");
    });
    const out = await runToCompletion(job);
    rows = canonicalRows(foldChangelog(out.get("result") ?? []));
  } catch (e) {
    const denied = e instanceof ForbiddenError;
    await audit.append(entry(denied ? "denied" : "failed", denied ? { grant: e.grant } : {}));
    throw e;
  }
  const fingerprint = resultFingerprint(principal.name, query, options.checkpoint, rows);
  await audit.append(entry("allowed", { rows: rows.length, fingerprint }));
  return {
    principal: principal.name,
    fingerprint,
    rows,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
  };
}
