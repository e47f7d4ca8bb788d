/**
 * Side outputs. An operator sends a record to side output `tag` by emitting it
 * wrapped as `{ [SIDE_OUTPUT]: tag, value }` down its one output; every edge out of
 * an operator that can emit side outputs selects what it carries: the main output
 * (unwrapped records) or one tag's records, unwrapped. The selection runs inside a
 * chain ({@link OutputSelector}) and in the router, before records are partitioned.
 */

import { ForwardingOperator, type Operator } from "./operator.ts";

/** Property that marks a record sent to a side output. */
export const SIDE_OUTPUT = "$riffle.side";

/** A record sent to a side output. */
export interface SideRecord {
  readonly [SIDE_OUTPUT]: string;
  readonly value: unknown;
}

/** Wraps `value` for side output `tag`. */
export function sideRecord(tag: string, value: unknown): SideRecord {
  return { [SIDE_OUTPUT]: tag, value };
}

/** Returned by {@link selectOutput} for a record the edge does not carry. */
export const SKIP: unique symbol = Symbol("skip");

/** What an edge carrying `output` (a tag, or `undefined` for the main output) passes of `v`. */
export function selectOutput(output: string | undefined, v: unknown): unknown {
  const side = typeof v === "object" && v !== null && SIDE_OUTPUT in v ? (v as SideRecord) : undefined;
  if (output === undefined) return side ? SKIP : v;
  return side?.[SIDE_OUTPUT] === output ? side.value : SKIP;
}

/** Operator kinds that can emit side outputs. */
export function emitsSideOutputs(kind: string): boolean {
  return (
    kind === "process" ||
    kind === "coProcess" ||
    kind === "streamProcess" ||
    kind === "broadcastProcess" ||
    kind === "keyedBroadcastProcess"
  );
}

/** In a chain: passes the next operator only the output its edge selects. */
export class OutputSelector extends ForwardingOperator {
  private readonly output: string | undefined;
  constructor(uid: string, next: Operator, output: string | undefined) {
    super(uid, next);
    this.output = output;
  }
  processRecord(value: unknown, time: number | undefined, input: number): void {
    const v = selectOutput(this.output, value);
    if (v !== SKIP) this.next.processRecord(v, time, input);
  }
}
