/**
 * The shape every exactly-once upsert sink of a changelog shares: an epoch's
 * changes are folded by key ({@link foldByKey}) into the transaction handle, which
 * riffle stores with the checkpoint, so `preCommit` has nothing more to make
 * durable; `commit` (the connector's) applies the handle idempotently.
 */
import type { TransactionContext, TwoPhaseCommitSink } from "../../core/api/two-phase-sink.ts";
import { type ChangeRecord, foldByKey } from "./changelog.ts";

/** A transaction handle: one epoch of one sink partition, folded by key. JSON. */
export interface KeyedSinkTxn<U, D> {
  readonly job: string;
  readonly sink: string;
  readonly partition: number;
  readonly checkpoint: number;
  /** What to write, one per key (the last `+I`/`+U` of the key in the epoch). */
  upserts: U[];
  /** What to delete, one per key (the key's last change in the epoch was `-D`). */
  deletes: D[];
}

/** What a connector gives {@link keyedChangeSink}. */
export interface KeyedChangeSinkSpec<C extends ChangeRecord, U, D> {
  /** The key of a change, as a string (two changes of one key must give the same string). */
  keyOf(change: C): string;
  /** What the handle keeps of an upsert. */
  upsertOf(change: C): U;
  /** What the handle keeps of a delete. */
  deleteOf(change: C): D;
  /** Applies a handle; idempotent, as riffle may commit it again after a restore. */
  commit(txn: KeyedSinkTxn<U, D>): void;
}

/** A two-phase sink that folds each epoch by key and commits it with `spec.commit`. */
export function keyedChangeSink<C extends ChangeRecord, U, D>(
  spec: KeyedChangeSinkSpec<C, U, D>,
): TwoPhaseCommitSink<C, KeyedSinkTxn<U, D>> {
  return {
    beginTransaction: (t: TransactionContext) => ({
      job: t.job,
      sink: t.operator,
      partition: t.partition,
      checkpoint: t.checkpointId,
      upserts: [],
      deletes: [],
    }),
    invoke(txn, values) {
      const { upserts, deletes } = foldByKey(values, spec.keyOf);
      txn.upserts = upserts.map((c) => spec.upsertOf(c));
      txn.deletes = deletes.map((c) => spec.deleteOf(c));
    },
    preCommit: () => {
      // The handle holds the epoch's changes and riffle stores it with the checkpoint: nothing more to make durable.
    },
    commit: (txn) => spec.commit(txn),
    abort: () => {},
  };
}
