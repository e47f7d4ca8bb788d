/** The stateless operators: source pass-through, map, filter, flatMap and sink. */

import { AsyncResultError, failsJob, isThenable, OperatorError } from "../errors.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";

/** Head of a source task: records read from splits enter the chain here. */
export class SourceOperator extends ForwardingOperator {
  processRecord(value: unknown, time: number | undefined): void {
    this.next.processRecord(value, time, 0);
  }
}

/** `map(fn)`. */
export class MapOperator extends ForwardingOperator {
  private readonly fn: (v: unknown) => unknown;
  constructor(uid: string, next: Operator, fn: (v: unknown) => unknown) {
    super(uid, next);
    this.fn = fn;
  }
  processRecord(value: unknown, time: number | undefined): void {
    let out: unknown;
    try {
      out = this.fn(value);
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    if (isThenable(out)) throw new AsyncResultError(this.uid, "map");
    this.next.processRecord(out, time, 0);
  }
}

/** `filter(fn)`. */
export class FilterOperator extends ForwardingOperator {
  private readonly fn: (v: unknown) => boolean;
  constructor(uid: string, next: Operator, fn: (v: unknown) => boolean) {
    super(uid, next);
    this.fn = fn;
  }
  processRecord(value: unknown, time: number | undefined): void {
    let keep: unknown;
    try {
      keep = this.fn(value);
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    if (isThenable(keep)) throw new AsyncResultError(this.uid, "filter");
    if (keep) this.next.processRecord(value, time, 0);
  }
}

/** `flatMap(fn)`. */
export class FlatMapOperator extends ForwardingOperator {
  private readonly fn: (v: unknown) => Iterable<unknown>;
  constructor(uid: string, next: Operator, fn: (v: unknown) => Iterable<unknown>) {
    super(uid, next);
    this.fn = fn;
  }
  processRecord(value: unknown, time: number | undefined): void {
    let out: unknown[];
    try {
      const it = this.fn(value);
      if (isThenable(it)) throw new AsyncResultError(this.uid, "flatMap");
      out = Array.isArray(it) ? it : Array.from(it);
    } catch (cause) {
      if (failsJob(cause)) throw cause;
      throw new OperatorError(this.uid, cause);
    }
    for (const v of out) this.next.processRecord(v, time, 0);
  }
}

/**
 * `sinkTo(name)` and `print()`: records join the batch's committed sink output.
 * Sink values are JSON, whichever store commits them: `undefined` is committed as
 * `null` (as JSON does in an array), and a value JSON cannot hold (a bigint, a
 * function, a symbol) fails the record with an {@link OperatorError} naming the sink.
 */
export class SinkOperator extends ForwardingOperator {
  private readonly out: unknown[];
  constructor(uid: string, next: Operator, services: TaskServices, sink: string) {
    super(uid, next);
    let out = services.sinks.get(sink);
    if (!out) {
      out = [];
      services.sinks.set(sink, out);
    }
    this.out = out;
  }
  processRecord(value: unknown): void {
    if (value === undefined) {
      this.out.push(null);
      return;
    }
    const type = typeof value;
    if (type === "bigint" || type === "function" || type === "symbol") {
      throw new OperatorError(this.uid, new TypeError(`a sink value must be JSON, got a ${type}`));
    }
    if (isThenable(value)) throw new AsyncResultError(this.uid, "the operator before this sink");
    this.out.push(value);
  }
}
