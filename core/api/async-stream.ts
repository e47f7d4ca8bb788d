/**
 * Async I/O, like Flink's `AsyncDataStream`: call an asynchronous function (a
 * lookup, an HTTP request) per record without blocking the partition on each call.
 *
 * riffle awaits per batch: before a batch is processed, the async operator (always
 * the head of its own task) starts the calls for every record the batch consumed,
 * at most `capacity` at a time, and awaits them all; then the batch runs with the
 * results, and they are committed with its segment. So output stays exactly-once;
 * a call may run more than once (a retried batch calls again), as in Flink after a
 * restore. A call that takes longer than `timeoutMs` (wall-clock time) fails its
 * record like a throwing map, with an {@link AsyncTimeoutError}.
 */

import { JobDefinitionError } from "../errors.ts";
import { DataStream } from "./datastream.ts";

/** An asynchronous function of one record: one result per input. */
export type AsyncFunction<T, O> = (value: T) => Promise<O>;

function wait<T, O>(
  stream: DataStream<T>,
  fn: AsyncFunction<T, O>,
  timeoutMs: number,
  capacity: number,
  ordered: boolean,
): DataStream<O> {
  if (typeof fn !== "function") throw new JobDefinitionError("AsyncDataStream: the async function must be a function");
  if (!(timeoutMs > 0)) throw new JobDefinitionError(`AsyncDataStream: timeoutMs must be positive, got ${timeoutMs}`);
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new JobDefinitionError(`AsyncDataStream: capacity must be a positive integer, got ${capacity}`);
  }
  const id = stream.builder.add(
    { kind: "async", fn: fn as AsyncFunction<unknown, unknown>, ordered, timeoutMs, capacity },
    ordered ? "async.ordered" : "async.unordered",
    stream.edges,
  );
  return new DataStream<O>(stream.builder, [{ node: id, partition: undefined }]);
}

/**
 * Entry point of async I/O, named as in Flink.
 *
 * @example
 * ```ts
 * const enriched = AsyncDataStream.orderedWait(bids, async (b) => ({ ...b, user: await lookup(b.bidder) }), 5000, 50);
 * ```
 */
export const AsyncDataStream = {
  /** Results leave in input order. */
  orderedWait: <T, O>(stream: DataStream<T>, fn: AsyncFunction<T, O>, timeoutMs: number, capacity = 100) =>
    wait(stream, fn, timeoutMs, capacity, true),
  /**
   * Results leave in the order the calls complete, within each input envelope (so
   * never across a watermark, as Flink's unordered mode keeps watermark order).
   */
  unorderedWait: <T, O>(stream: DataStream<T>, fn: AsyncFunction<T, O>, timeoutMs: number, capacity = 100) =>
    wait(stream, fn, timeoutMs, capacity, false),
};
