/**
 * The keyed process operator: runs a {@link KeyedProcessFunction} with keyed state
 * and timers. Rolling aggregations (reduce, sum, min, max) are built on it.
 */

import type { KeyedReadOnlyBroadcastContext } from "../api/broadcast.ts";
import type { KeyedContext, KeySelector } from "../api/functions.ts";
import type { StateCodec, StateSpec } from "../api/state.ts";
import { InternalError, OperatorError, ProtocolError } from "../errors.ts";
import { encodeKey, type Key, keyGroupOf } from "../keys.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import { type Implied, Timers } from "../runtime/timers.ts";
import { broadcastContext } from "./broadcast-process.ts";
import { KeyBundles } from "./key-bundles.ts";
import { type KeyedCtx, type KeyedOp, keyedParts, keyedStateId } from "./keyed-context.ts";
import { LastKey } from "./last-key.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";
import { type PrefetchingFunction, prefetchItems, prefetching } from "./prefetch.ts";
import { callUser, notifyComplete } from "./process-context.ts";
import { sliceSite } from "./slice-site.ts";
import { stateValues } from "./state-handles.ts";

export type { KeyedOp } from "./keyed-context.ts";

/** Runs a keyed process function. Always the head of its task. */
export class KeyedProcessOperator extends ForwardingOperator {
  private readonly fn: KeyedOp["fn"];
  /** Per input edge: the element handler (processElement, or processElement1/2 by side). */
  private readonly handlers: readonly ((value: unknown, ctx: KeyedContext<Key, StateSpec, unknown>) => void)[];
  /** Per input edge: its key selector; `undefined` for a broadcast input (handled outside any key). */
  private readonly selectors: readonly (KeySelector<unknown, Key> | undefined)[];
  private readonly services: TaskServices;
  private readonly backend: KeyedBackend;
  /** Timers of this operator. */
  readonly timers: Timers;
  /** State ids this operator reads, for prefetching. */
  readonly stateIds: readonly string[];
  private readonly ctx: KeyedCtx;
  private readonly fireEvent: (t: number) => void;
  private readonly fireProcessing: (t: number) => void;
  /** Removes the current key's expired TTL state (a cleanup timer fired). */
  private readonly cleanup: () => void;
  /** The function, when it prefetches its answers per slice. */
  private readonly prefetcher: PrefetchingFunction | undefined;
  /** The records of the envelope being processed, and the index of the next one (for the prefetcher). */
  private records: readonly unknown[] = [];
  /** The last key encoded (see last-key.ts). */
  private readonly lastKey = new LastKey();
  private index = 0;
  /** The slice's held records by key, when the function takes bundles (`processBundle`, `processBundle1/2`). */
  private readonly bundles: KeyBundles | undefined;

  constructor(
    uid: string,
    next: Operator,
    op: KeyedOp,
    selectors: readonly (KeySelector<unknown, Key> | undefined)[],
    sides: readonly (0 | 1)[],
    services: TaskServices,
    codec: StateCodec = "json",
  ) {
    super(uid, next);
    this.fn = op.fn;
    this.prefetcher = op.kind === "process" ? prefetching(op.fn) : undefined;
    this.selectors = selectors;
    this.bundles = KeyBundles.of(op, sides);
    this.handlers = handlersOf(uid, next, op, sides, services, codec);
    this.services = services;
    if (!services.backend) throw new InternalError("keyed operator without a keyed backend");
    this.backend = services.backend;
    this.timers = new Timers(this.backend, uid, impliedOf(uid, op, codec));
    const parts = keyedParts(uid, next, op, services, this.backend, this.timers, codec);
    this.ctx = parts.ctx;
    this.stateIds = parts.stateIds;
    this.cleanup = parts.cleanup;
    this.fireEvent = parts.fireEvent;
    this.fireProcessing = parts.fireProcessing;
  }

  /** The encoded key of `value` arriving on `input`. */
  keyOf(value: unknown, input: number): { key: Key; enc: string } | undefined {
    const selector = this.selectors[input];
    if (selector === undefined) return undefined; // a broadcast input
    const key = selector(value);
    return { key, enc: encodeKey(key) };
  }

  /**
   * Before a slice: lets a prefetching function work out its answers for the
   * slice's envelopes (their keyed state must be loaded).
   */
  async prefetch(
    envelopes: readonly { from: string; seq: number; records: readonly unknown[]; times?: readonly number[] }[],
  ): Promise<void> {
    const pf = this.prefetcher;
    if (!pf || envelopes.length === 0) return;
    const items = prefetchItems(envelopes, (value) => this.keyOf(value, 0));
    const { start, end } = this.services.keyGroups;
    const handle = (this.ctx.state as Record<string, { value(): unknown } | undefined>).remote;
    await pf.prefetch({
      site: sliceSite(`kg${start}-${end}`, envelopes),
      envelopes: items,
      stateOf: (item) => {
        const cur = this.backend.current;
        cur.key = item.key;
        cur.enc = item.enc;
        cur.group = keyGroupOf(item.enc, this.services.maxParallelism);
        return handle?.value();
      },
    });
  }

  startRecords(records: readonly unknown[]): void {
    this.records = records;
    this.index = 0;
  }

  processRecord(value: unknown, time: number | undefined, input: number): void {
    this.prefetcher?.select(this.records, this.index++);
    if (this.selectors[input] === undefined) {
      this.finishBundle(); // what came before it goes first
      this.handle(value, time, input); // a broadcast input: handled outside any key, on every partition
      return;
    }
    // The key, its encoding and group without an object per record; a run of one key encodes it once.
    let key: Key;
    const last = this.lastKey;
    try {
      key = (this.selectors[input] as KeySelector<unknown, Key>)(value);
      last.resolve(key, this.services.maxParallelism, this.services.keyGroups);
    } catch (cause) {
      if (cause instanceof ProtocolError) throw cause;
      throw new OperatorError(this.uid, cause);
    }
    const { enc, group } = last;
    const bundles = this.bundles;
    if (bundles?.takes(input)) {
      bundles.hold(input, key, enc, group, value, time, this.handOver);
      if (this.services.isolating) this.finishBundle(); // a record-by-record rerun: bundles of one record
      return;
    }
    this.finishBundle(); // a bundled input's records go first
    const cur = this.backend.current;
    cur.key = key;
    cur.enc = enc;
    cur.group = group;
    this.handle(value, time, input);
  }

  /** Hands each key's held records to their input's bundle function, keys in order of first arrival. */
  private finishBundle(): void {
    const bundles = this.bundles;
    if (!bundles) return;
    const { ctx, uid } = this;
    const cur = this.backend.current;
    bundles.handOver((enc, b, take) => {
      cur.key = b.key;
      cur.enc = enc;
      cur.group = b.group;
      ctx.timestamp = b.time;
      callUser(uid, () => take(b.values, ctx));
    });
  }

  private readonly handOver = () => this.finishBundle();

  override flush(): void {
    this.finishBundle();
    this.next.flush?.();
  }

  override prepareSnapshotPreBarrier(n: number): void {
    this.finishBundle();
    this.next.prepareSnapshotPreBarrier?.(n);
  }

  /** Runs the handler of `input` on `value`. */
  private handle(value: unknown, time: number | undefined, input: number): void {
    this.ctx.timestamp = time;
    const handler = this.handlers[input] as (v: unknown, c: KeyedContext<Key, StateSpec, unknown>) => void;
    callUser(this.uid, () => handler(value, this.ctx));
  }

  override processWatermark(watermark: number): void {
    this.finishBundle();
    this.timers.fire("e", watermark, this.fireEvent);
    this.next.processWatermark(watermark);
  }

  override processTime(now: number): void {
    this.finishBundle();
    this.timers.fire("c", now, this.cleanup);
    this.timers.fire("p", now, this.fireProcessing);
    this.next.processTime(now);
  }

  override notifyCheckpointComplete(n: number): void {
    notifyComplete(this.uid, this.fn, this.next, n);
  }

  override endInput(): void {
    this.finishBundle();
    this.timers.fire("e", Number.POSITIVE_INFINITY, this.fireEvent);
    this.timers.fire("p", Number.POSITIVE_INFINITY, this.fireProcessing);
    this.next.endInput();
  }
}

/** Per input edge: the element handler of `op` (processElement, or processElement1/2 by side). */
function handlersOf(
  uid: string,
  next: Operator,
  op: KeyedOp,
  sides: readonly (0 | 1)[],
  services: TaskServices,
  codec: StateCodec,
): ((value: unknown, ctx: KeyedContext<Key, StateSpec, unknown>) => void)[] {
  const broadcast =
    op.kind === "keyedBroadcastProcess"
      ? broadcastContext(uid, next, services, op.descriptors, true, codec)
      : undefined;
  return sides.map((side) => {
    if (op.kind === "process") return (v, c) => op.fn.processElement(v, c);
    if (op.kind === "keyedBroadcastProcess") {
      const bctx = broadcast as NonNullable<typeof broadcast>;
      return side === 0
        ? (v, c) => op.fn.processElement(v, c as KeyedReadOnlyBroadcastContext<Key, StateSpec, unknown>)
        : (v, c) => {
            bctx.timestamp = c.timestamp;
            op.fn.processBroadcastElement(v, bctx);
          };
    }
    return side === 0 ? (v, c) => op.fn.processElement1(v, c) : (v, c) => op.fn.processElement2(v, c);
  });
}

/** The event-time timers `op`'s function says its state implies, if any: `at` gets the state's value as the function reads it. */
function impliedOf(uid: string, op: KeyedOp, codec: StateCodec): Implied | undefined {
  const implied = op.kind === "keyedBroadcastProcess" ? undefined : op.fn.impliedTimers;
  if (!implied) return undefined;
  const at = implied.at as (key: unknown, value: unknown) => number;
  const descriptor = (op.fn.state as StateSpec | undefined)?.[implied.state];
  const { read } = stateValues(uid, implied.state, descriptor?.codec ?? codec);
  return {
    stateId: keyedStateId(uid, implied.state),
    at: read ? (key, value) => at(key, read(value)) : at,
    storesOthers: implied.storesOthers === true,
  };
}
