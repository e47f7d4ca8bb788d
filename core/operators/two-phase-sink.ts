/**
 * The operator behind `addSink(TwoPhaseCommitSink)`: stages records in the
 * partition's log, turns each epoch into a pre-committed transaction at its
 * barrier, and commits transactions when their checkpoint completes (or, after a
 * restore, at once). See `core/api/two-phase-sink.ts` for the contract.
 */

import type { TransactionContext, TwoPhaseCommitSink } from "../api/two-phase-sink.ts";
import { OperatorError } from "../errors.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";

/** A pre-committed transaction waiting for checkpoint `n` to complete. */
interface Pending {
  readonly n: number;
  /** Generation that pre-committed it. */
  readonly gen: number;
  readonly txn: unknown;
}

/** The sink's partition state. */
interface SinkState {
  readonly pending: readonly Pending[];
  /** The last barrier this partition passed. */
  readonly epoch: number;
}

/** Where the sink runs. */
export interface SinkSite {
  readonly job: string;
  readonly partition: number;
  readonly generation: number;
}

/** Runs a {@link TwoPhaseCommitSink}; always at the end of its chain. */
export class TwoPhaseCommitSinkOperator extends ForwardingOperator {
  private readonly sink: TwoPhaseCommitSink<unknown, unknown>;
  private readonly services: TaskServices;
  private readonly site: SinkSite;
  private readonly key: string;
  /** This slice's records (the runner clears the array after each commit). */
  private readonly staged: unknown[];
  /** Pre-committed transactions not yet known to be committed. */
  private pending: Pending[];
  /** The last barrier this partition passed (the final transaction is for the checkpoint after it). */
  private epoch: number;

  constructor(
    uid: string,
    next: Operator,
    sink: TwoPhaseCommitSink<unknown, unknown>,
    services: TaskServices,
    site: SinkSite,
  ) {
    super(uid, next);
    this.sink = sink;
    this.services = services;
    this.site = site;
    this.key = `2pc:${uid}`;
    const state = services.operatorState.get(this.key) as SinkState | undefined;
    this.pending = [...(state?.pending ?? [])];
    this.epoch = state?.epoch ?? 0;
    this.staged = [];
    services.staged.set(uid, this.staged);
    // After a restore, what survived in the log was pre-committed in the restored checkpoint: commit it.
    this.commitWhere((p) => p.gen < site.generation);
  }

  processRecord(value: unknown): void {
    this.staged.push(value);
  }

  override prepareSnapshotPreBarrier(n: number): void {
    this.preCommit(n);
    this.epoch = n;
    this.save();
    this.next.prepareSnapshotPreBarrier?.(n);
  }

  override endInput(): void {
    // The rest belongs to the checkpoint after the last barrier (a finished partition acks every later one).
    this.preCommit(this.epoch + 1);
    this.save();
    this.next.endInput();
  }

  override notifyCheckpointComplete(n: number): void {
    this.commitWhere((p) => p.n <= n);
    this.next.notifyCheckpointComplete?.(n);
  }

  /** Begins, fills and pre-commits the transaction of the epoch's records, if there are any. */
  private preCommit(n: number): void {
    const records = [...this.services.epochStaged(this.uid), ...this.staged];
    if (records.length === 0) return;
    const ctx: TransactionContext = { operator: this.uid, ...this.site, checkpointId: n };
    let txn: unknown;
    try {
      txn = this.sink.beginTransaction(ctx);
      this.sink.invoke(txn, records);
      this.sink.preCommit(txn);
    } catch (cause) {
      try {
        if (txn !== undefined) this.sink.abort(txn);
      } catch {
        // The failure that made us abort is the one to report.
      }
      throw new OperatorError(this.uid, cause);
    }
    this.pending.push({ n, gen: this.site.generation, txn });
  }

  /** Commits the pending transactions that `which` selects; the rest stay pending. */
  private commitWhere(which: (p: Pending) => boolean): void {
    const keep: Pending[] = [];
    for (const p of this.pending) {
      if (!which(p)) {
        keep.push(p);
        continue;
      }
      try {
        this.sink.commit(p.txn);
      } catch (cause) {
        throw new OperatorError(this.uid, cause);
      }
    }
    // Committed ones leave partition state at the next barrier; until then a restore may commit them again.
    this.pending = keep;
  }

  /** Writes the pending transactions and the epoch to partition state (committed with the slice). */
  private save(): void {
    this.services.operatorState.set(this.key, { pending: this.pending, epoch: this.epoch } satisfies SinkState);
  }
}
