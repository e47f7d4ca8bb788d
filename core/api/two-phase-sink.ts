/**
 * A sink interface for users, like Flink's `TwoPhaseCommitSinkFunction`, bound to
 * riffle's checkpoints:
 *
 * - records reaching the sink are staged in the partition's log, committed with
 *   each batch as everything else is;
 * - at checkpoint barrier n (and at the end of bounded input), the sink partition
 *   begins a transaction, writes the epoch's records into it (`invoke`, in order)
 *   and pre-commits it (`preCommit`); the transaction handle is committed with the
 *   segment that ends the epoch;
 * - when checkpoint n (or a later one) completes, riffle calls `commit` for every
 *   transaction pre-committed at or before it. The notification is best effort, so
 *   after a restore riffle commits again every transaction pre-committed in the
 *   restored checkpoint: `commit` must be idempotent;
 * - if `invoke` or `preCommit` throws, riffle calls `abort` and fails the batch.
 *
 * A transaction pre-committed after the checkpoint a job restores to is never
 * committed: its records are processed again into new transactions. riffle no
 * longer knows its handle after the restore, so name transactions
 * deterministically from the {@link TransactionContext} (a retried barrier begins
 * the same name again) and treat transactions never committed as garbage, e.g.
 * temporary files. All methods are synchronous, like every riffle function.
 * Pending transactions live in partition state, which a savepoint does not carry:
 * a savepoint restore commits nothing that the notification before it did not.
 */

import { JobDefinitionError } from "../errors.ts";
import { syncFn } from "./function-checks.ts";

/** What a transaction is for: one epoch of one sink partition. */
export interface TransactionContext {
  readonly job: string;
  /** The sink operator's uid. */
  readonly operator: string;
  readonly partition: number;
  /** The job generation that begins it. */
  readonly generation: number;
  /** The checkpoint whose completion commits it (for the end of input: the next one after the last barrier). */
  readonly checkpointId: number;
}

/**
 * A transactional sink. `TXN` is its transaction handle: JSON, since it is stored
 * with the checkpoint.
 *
 * @example
 * ```ts
 * stream.addSink<string>({
 *   beginTransaction: (t) => `${dir}/tmp/${t.generation}-${t.checkpointId}-${t.partition}`,
 *   invoke: (file, lines) => writeFileSync(file, lines.map((l) => `${l}\n`).join("")),
 *   preCommit: (file) => fsyncFile(file),
 *   commit: (file) => { if (existsSync(file)) renameSync(file, file.replace("/tmp/", "/done/")); },
 *   abort: (file) => rmSync(file, { force: true }),
 * });
 * ```
 */
export interface TwoPhaseCommitSink<T, TXN> {
  /** Starts the transaction of one epoch. A retried barrier calls it again with the same context. */
  beginTransaction(ctx: TransactionContext): TXN;
  /** Writes the epoch's records into the transaction, in order (called once per transaction). */
  invoke(txn: TXN, values: readonly T[]): void;
  /** Makes the transaction durable and ready to commit; after it returns, `commit` must succeed. */
  preCommit(txn: TXN): void;
  /** Makes the transaction visible. Idempotent: it may run again after a restore. */
  commit(txn: TXN): void;
  /** Discards a transaction that failed before it was pre-committed. */
  abort(txn: TXN): void;
}

/** Checks at build time that `sink` has every method, none of them async. */
export function checkSink(sink: TwoPhaseCommitSink<unknown, unknown> | object): void {
  for (const m of ["beginTransaction", "invoke", "preCommit", "commit", "abort"] as const) {
    const f = (sink as Record<string, unknown>)[m];
    if (typeof f !== "function") throw new JobDefinitionError(`addSink: the sink has no ${m}() method`);
    syncFn(`addSink ${m}`, f, f);
  }
}
