/**
 * The audit as a SQL table, `riffle_audit`: one row per {@link AuditEntry}, lists
 * joined into text. Reading it needs the `auditor` grant (`rewrite.ts`), and the read
 * is audited like any other.
 */
import type { AuditEntry } from "../ports/audit-log.ts";

/** The columns of `riffle_audit`, as a `CREATE TABLE` column list. */
export const AUDIT_COLUMNS =
  "`time` TIMESTAMP(3), principal VARCHAR, route VARCHAR, job VARCHAR, tables VARCHAR, predicates VARCHAR, " +
  "masked VARCHAR, row_count BIGINT, outcome VARCHAR, status INT, missing_grant VARCHAR, `checkpoint` BIGINT, " +
  "fingerprint VARCHAR, query VARCHAR";

/** One row of `riffle_audit`, keyed by column name. */
export function auditRow(e: AuditEntry): Record<string, unknown> {
  return {
    time: e.time,
    principal: e.principal,
    route: e.route,
    job: e.job ?? null,
    tables: e.tables.join(","),
    predicates: e.predicates.join("; "),
    masked: e.masked.join(","),
    row_count: e.rows,
    outcome: e.outcome,
    status: e.status ?? null,
    missing_grant: e.grant ?? null,
    checkpoint: e.checkpoint ?? null,
    fingerprint: e.fingerprint ?? null,
    query: e.query ?? null,
  };
}
