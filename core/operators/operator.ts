/**
 * The operator contract inside a task's chain. An operator receives records,
 * watermark advances and end-of-input, and passes results to the next operator;
 * the chain ends in the task's router. Only `processRecord` is specific to each
 * operator; {@link ForwardingOperator} gives the rest sensible defaults.
 */

import type { DeadLetter } from "../ports/state-store.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";

/** One operator of a chain (or the router at its end). */
export interface Operator {
  /** A record arrives on input `input` (0 for single-input operators). */
  processRecord(value: unknown, time: number | undefined, input: number): void;
  /** The partition's event-time watermark advanced to `watermark`. */
  processWatermark(watermark: number): void;
  /** Processing time advanced to `now` (fires due processing-time timers). */
  processTime(now: number): void;
  /** Every input channel has ended: flush, fire remaining timers, pass it on. */
  endInput(): void;
  /** The records of one input envelope are about to be processed (async I/O finds its results here). */
  startRecords?(records: readonly unknown[]): void;
  /**
   * The records so far were processed: called at the end of a slice, before an envelope's
   * signal, and after a source's poll. A keyed operator hands on its mini-batch here;
   * watermark generators emit.
   */
  flush?(): void;
  /** Checkpoint `n` completed (best effort, like Flink's notification). */
  notifyCheckpointComplete?(n: number): void;
  /** Barrier `n` is about to be forwarded: the epoch ends with this slice (a two-phase sink pre-commits here). */
  prepareSnapshotPreBarrier?(n: number): void;
}

/** Per-batch services of a task partition, shared by the operators of its chain. */
export interface TaskServices {
  /** Keyed state of the head operator, when the task is keyed. */
  readonly backend: KeyedBackend | undefined;
  /** Records committed to named sinks in this batch. */
  readonly sinks: Map<string, unknown[]>;
  /** Records two-phase sinks staged in this batch, by operator uid (committed with the segment, not published). */
  readonly staged: Map<string, unknown[]>;
  /** Records operator `uid` staged in the committed segments of the current epoch. */
  epochStaged(uid: string): readonly unknown[];
  /** Dead letters of this batch. */
  readonly deadLetters: DeadLetter[];
  /** Processing time of the current batch. */
  now: number;
  /** Current event-time watermark of the partition. */
  watermark: number;
  /** True while a failed batch is rerun record by record (operators then hold no record past its own call). */
  isolating?: boolean;
  /** Partition-scoped operator state: committed values, with this batch's writes on top. */
  readonly operatorState: OperatorState;
  /** Key group range this partition owns. */
  readonly keyGroups: { readonly start: number; readonly end: number };
  readonly maxParallelism: number;
}

/** Partition-scoped (not keyed) operator state, committed with the batch's segment. */
export interface OperatorState {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/** Passes watermarks, time and end-of-input through to the next operator. */
export abstract class ForwardingOperator implements Operator {
  protected readonly next: Operator;
  protected readonly uid: string;
  constructor(uid: string, next: Operator) {
    this.uid = uid;
    this.next = next;
  }
  abstract processRecord(value: unknown, time: number | undefined, input: number): void;
  processWatermark(watermark: number): void {
    this.next.processWatermark(watermark);
  }
  processTime(now: number): void {
    this.next.processTime(now);
  }
  endInput(): void {
    this.next.endInput();
  }
  notifyCheckpointComplete(n: number): void {
    this.next.notifyCheckpointComplete?.(n);
  }
  prepareSnapshotPreBarrier(n: number): void {
    this.next.prepareSnapshotPreBarrier?.(n);
  }
  flush(): void {
    this.next.flush?.();
  }
}
