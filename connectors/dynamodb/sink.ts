/**
 * `dynamodbSink(...)`: an exactly-once sink of a changelog into a DynamoDB table,
 * on riffle's two-phase sink interface.
 *
 * An epoch's changes are folded by key into its transaction handle (the last change
 * of each key: a put or a delete), which riffle stores with the checkpoint. When
 * the checkpoint completes, `commit` writes the handle in `TransactWriteItems`
 * batches (up to 99 items and ~3.5 MB each), each with an update of the sink
 * partition's progress item in a riffle-owned table, conditioned on the item
 * holding an earlier (checkpoint, batch). A batch is thus applied together with its
 * progress, or not at all, and a commit riffle repeats after a restore skips the
 * batches already applied. The written items are the changes' rows, with no riffle
 * attribute added. See docs/DESIGN.md for why not per-item fencing.
 */
import type { TwoPhaseCommitSink } from "../../core/api/two-phase-sink.ts";
import { type KeyedSinkTxn, keyedChangeSink } from "../shared/keyed-sink.ts";
import { SyncWorker } from "../shared/sync-call.ts";
import type { DynamoEndpoint } from "./api.ts";
import type { DynamoChange } from "./changes.ts";
import { DynamoConnectorError, dynamoError } from "./errors.ts";
import { keyString, type WireItem } from "./wire.ts";

/** Options of {@link dynamodbSink}. */
export interface DynamoSinkOptions extends DynamoEndpoint {
  /** The table written; its key must be the changes' `key` attributes. */
  readonly table: string;
  /**
   * The progress table riffle owns, with a string partition key `id` (created,
   * on-demand, on the first commit if missing). Default `riffle_sink_progress`.
   */
  readonly progressTable?: string;
  /** How long a commit may take before it fails (and is retried, skipping the batches written), in ms (default 300 000). */
  readonly commitTimeoutMs?: number;
}

/** A transaction handle: one epoch of one sink partition, folded by key (`deletes`: the items' keys). JSON. */
export type DynamoSinkTxn = KeyedSinkTxn<WireItem, WireItem>;

/** What the sink's worker is asked to do: write `txn` into `table`. */
export interface DynamoCommitRequest {
  readonly table: string;
  readonly progressTable: string;
  readonly txn: DynamoSinkTxn;
}

/** What a commit did: batches written and batches skipped (already applied). */
export interface DynamoCommitResult {
  readonly applied: number;
  readonly skipped: number;
}

/**
 * An exactly-once sink of a DynamoDB changelog (`+I`/`+U` put, `-D` delete, and a `-U`
 * with no `+U` after it deletes too) into a DynamoDB table, committed once per checkpoint. Key the stream by
 * {@link changeKey} before a parallel sink, so a key's changes stay in order.
 *
 * @example
 * ```ts
 * changes.keyBy(changeKey).addSink(dynamodbSink({ table: "orders_copy" }));
 * ```
 */
export function dynamodbSink(options: DynamoSinkOptions): TwoPhaseCommitSink<DynamoChange, DynamoSinkTxn> {
  const progressTable = options.progressTable ?? "riffle_sink_progress";
  const worker = new SyncWorker<DynamoCommitRequest, DynamoCommitResult>(
    new URL("./sink-worker.ts", import.meta.url),
    { endpoint: options.endpoint, region: options.region },
    options.commitTimeoutMs ?? 300_000,
  );
  return keyedChangeSink<DynamoChange, WireItem, WireItem>({
    keyOf: (c) => keyString(c.key),
    upsertOf: (c) => c.row,
    deleteOf: (c) => c.key,
    commit(txn) {
      if (txn.upserts.length === 0 && txn.deletes.length === 0) return;
      try {
        worker.call(
          { table: options.table, progressTable, txn },
          (ms) => new DynamoConnectorError(`dynamodb sink: no answer from DynamoDB in ${ms} ms`),
        );
      } catch (e) {
        throw dynamoError(`dynamodb sink: committing into '${options.table}'`, e);
      }
    },
  });
}
