/**
 * `postgresCdc(...)`: a source of a Postgres table's changelog, a lock-free
 * incremental snapshot followed by the change stream (see `cdc-reader.ts`).
 */
import type { Source } from "../../core/api/source.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { CdcReader } from "./cdc-reader.ts";
import type { ChangeRecord } from "./changes.ts";
import { lsnValue } from "./lsn.ts";

/** Options of {@link postgresCdc}. */
export interface PostgresCdcOptions {
  /** Connection string, e.g. `postgres://user:pw@host:5432/db`. The role needs REPLICATION. */
  readonly url: string;
  /** The table, `name` or `schema.name`. It needs a primary key. */
  readonly table: string;
  /** The logical replication slot (created with pgoutput when missing; one per job). */
  readonly slot: string;
  /** The publication (created for the table when missing). Default: `<slot>_pub`. */
  readonly publication?: string;
  /** Rows per snapshot chunk (default 1024). */
  readonly chunkSize?: number;
  /** False to skip the snapshot and only stream changes (default true). */
  readonly snapshot?: boolean;
  /**
   * End the source once the snapshot is done and the stream has passed this LSN
   * (`pg_current_wal_lsn()` text); the source is unbounded without it.
   */
  readonly until?: string;
  /** How long an idle stream waits before it is read again, in ms (default 50). */
  readonly pollMs?: number;
}

/**
 * The changelog of a Postgres table: `{ kind: "+I" | "-U" | "+U" | "-D", row }`.
 * The first read creates the publication and the slot if missing, then snapshots
 * the table in primary-key chunks without locks while it streams changes; an
 * upsert of the changelog by primary key ends equal to the table. Chunk progress
 * and the stream's LSN are the source's position in riffle's checkpoints; the slot
 * is confirmed only when a checkpoint that covers an LSN completes. One split (one
 * partition reads the table).
 *
 * @example
 * ```ts
 * env.fromSource(postgresCdc({ url, table: "orders", slot: "riffle_orders" }))
 * ```
 */
export function postgresCdc(options: PostgresCdcOptions): Source<ChangeRecord> {
  const chunkSize = options.chunkSize ?? 1024;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new JobDefinitionError(`postgresCdc: chunkSize must be a positive integer, got ${options.chunkSize}`);
  if (!/^[a-z0-9_]+$/.test(options.slot))
    throw new JobDefinitionError(
      `postgresCdc: slot '${options.slot}' must be lower-case letters, digits and underscores (a Postgres slot name)`,
    );
  const publication = options.publication ?? `${options.slot}_pub`;
  if (!/^[A-Za-z0-9_]+$/.test(publication))
    throw new JobDefinitionError(`postgresCdc: publication '${publication}' must be letters, digits and underscores`);
  if (options.until !== undefined) {
    try {
      lsnValue(options.until);
    } catch (cause) {
      throw new JobDefinitionError(`postgresCdc: until '${options.until}' is not an LSN like 0/16B3748`, { cause });
    }
  }
  const reader = {
    url: options.url,
    table: options.table,
    slot: options.slot,
    publication,
    chunkSize,
    snapshot: options.snapshot ?? true,
    until: options.until,
    pollMs: options.pollMs ?? 50,
  };
  return {
    name: "postgres-cdc",
    bounded: options.until !== undefined,
    fixedParallelism: 1,
    checkpointListener: true,
    splits: () => [{ id: options.slot }],
    reader: (_split, position, context) => new CdcReader(reader, position, context),
  };
}
