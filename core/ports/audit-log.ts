/**
 * The `AuditLog` port: every access to a job's API and tables, allowed or denied,
 * appended durably (issue 16, governed access). Implementations: in memory
 * (`core/memory/in-memory-audit-log.ts`), the state dir (`core/durable/sqlite-audit-log.ts`),
 * DynamoDB (`functions/aws/dynamo-audit-log.ts`). The audit is read back through SQL
 * as the table `riffle_audit`, by the `auditor` grant only.
 */

/** One access. */
export interface AuditEntry {
  /** When, epoch ms. */
  readonly time: number;
  /** The principal's name; `(unauthenticated)` when the request presented no valid key. */
  readonly principal: string;
  /** What was accessed: `METHOD /path/{template}` for a route, `sql` for a query. */
  readonly route: string;
  /** The job, when the access names one. */
  readonly job?: string;
  /** Tables read, or the ingest source written. */
  readonly tables: readonly string[];
  /** Row predicates applied, as `table: predicate`. */
  readonly predicates: readonly string[];
  /** Masked columns, as `table.column`. */
  readonly masked: readonly string[];
  /** Rows returned (a read) or records accepted (an ingest). */
  readonly rows: number;
  /** `allowed`, `denied` (a missing grant or credential), or `failed` (allowed, then an error). */
  readonly outcome: "allowed" | "denied" | "failed";
  /** The HTTP status answered, when a route was called. */
  readonly status?: number;
  /** The grant that was missing, when denied for one. */
  readonly grant?: string;
  /** The checkpoint the read was made at. */
  readonly checkpoint?: number;
  /** A read result's fingerprint (`core/governance/fingerprint.ts`), to trace an export. */
  readonly fingerprint?: string;
  /** The SQL of a query. */
  readonly query?: string;
}

/** Durable, append-only record of accesses. */
export interface AuditLog {
  /** Appends `entry`; durable when the promise resolves. */
  append(entry: AuditEntry): Promise<void>;
  /** Every entry, oldest first (entries of the same millisecond in no set order). */
  read(): Promise<AuditEntry[]>;
}
