/**
 * The keyed process operator: runs a {@link KeyedProcessFunction} with keyed state
 * and timers. Rolling aggregations (reduce, sum, min, max) are built on it.
 */

import type {
  KeyedBroadcastProcessFunction,
  KeyedReadOnlyBroadcastContext,
  MapStateDescriptor,
  ReadOnlyBroadcastAccess,
} from "../api/broadcast.ts";
import type {
  KeyedContext,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  TimerContext,
  TimerService,
} from "../api/functions.ts";
import type { StateCodec, StateDescriptor, StateSpec } from "../api/state.ts";
import { InternalError, OperatorError, ProtocolError } from "../errors.ts";
import { encodeKey, type Key, keyGroupOf } from "../keys.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import { Timers } from "../runtime/timers.ts";
import { broadcastContext } from "./broadcast-process.ts";
import { broadcastStates } from "./broadcast-state.ts";
import { LastKey } from "./last-key.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";
import { operatorListStates } from "./operator-state.ts";
import { type PrefetchingFunction, prefetchItems, prefetching } from "./prefetch.ts";
import { callUser, notifyComplete } from "./process-context.ts";
import { sideRecord } from "./side-output.ts";
import { sliceSite } from "./slice-site.ts";
import { stateHandle, stateValues } from "./state-handles.ts";

type Fn = KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
type CoFn = KeyedCoProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
type BcFn = KeyedBroadcastProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
/** What a keyed operator runs: a one-input, a two-input or a keyed broadcast function. */
export type KeyedOp =
  | { readonly kind: "process"; readonly fn: Fn }
  | { readonly kind: "coProcess"; readonly fn: CoFn }
  | {
      readonly kind: "keyedBroadcastProcess";
      readonly fn: BcFn;
      readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
    };

/** One key's records of the current envelope, for a function that takes bundles. */
interface Bundled {
  readonly key: Key;
  readonly group: number;
  readonly values: unknown[];
  time: number | undefined;
}

/** Takes one key's held records of one input (`processBundle`, `processBundle1` or `processBundle2`). */
type Bundler = (values: readonly unknown[], ctx: KeyedContext<Key, StateSpec, unknown>) => void;

/** What takes the bundles of an input on `side` of `op`; undefined when the function takes that input record by record. */
function bundlerOf(op: KeyedOp, side: 0 | 1): Bundler | undefined {
  if (op.kind === "process") {
    const fn = op.fn;
    return fn.processBundle ? (vs, ctx) => fn.processBundle?.(vs, ctx) : undefined;
  }
  if (op.kind !== "coProcess") return undefined;
  const fn = op.fn;
  if (side === 0) return fn.processBundle1 ? (vs, ctx) => fn.processBundle1?.(vs, ctx) : undefined;
  return fn.processBundle2 ? (vs, ctx) => fn.processBundle2?.(vs, ctx) : undefined;
}

/** Runs a keyed process function. Always the head of its task. */
export class KeyedProcessOperator extends ForwardingOperator {
  private readonly fn: Fn | CoFn | BcFn;
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
  private readonly ctx: KeyedContext<Key, StateSpec, unknown> & {
    timestamp: number | undefined;
    timeDomain: "event" | "processing";
  };
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
  /** The current envelope's records by encoded key, when the function takes bundles (`processBundle`, `processBundle1/2`). */
  private readonly bundle: Map<string, Bundled> | undefined;
  /** Per input edge: what takes its records' bundles, `undefined` for an input handled record by record. */
  private readonly bundlers: readonly (Bundler | undefined)[];
  /** What takes the held bundle's records (all of one input: a bundle never mixes inputs). */
  private bundler: Bundler | undefined;

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
    const fn = op.fn;
    this.fn = fn;
    this.prefetcher = op.kind === "process" ? prefetching(fn) : undefined;
    this.selectors = selectors;
    const bundlers = [bundlerOf(op, 0), bundlerOf(op, 1)] as const;
    this.bundlers = sides.map((side) => bundlers[side]);
    this.bundle = this.bundlers.some((b) => b !== undefined) ? new Map() : undefined;
    const broadcast =
      op.kind === "keyedBroadcastProcess"
        ? broadcastContext(uid, next, services, op.descriptors, true, codec)
        : undefined;
    this.handlers = sides.map((side) => {
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
    this.services = services;
    if (!services.backend) throw new InternalError("keyed operator without a keyed backend");
    const backend = services.backend;
    this.backend = backend;
    this.timers = new Timers(backend, uid);
    const names = Object.keys(fn.state ?? {});
    this.stateIds = [...names.map((n) => `${uid}/${n}`), this.timers.stateId];
    const timers = this.timers;
    const state: Record<string, unknown> = {};
    const cleanups: (() => void)[] = [];
    const ttl = { now: () => services.now, schedule: (t: number) => timers.register("c", t) };
    for (const name of names) {
      const d = (fn.state as StateSpec)[name] as StateDescriptor<unknown>;
      const built = stateHandle(d, `${uid}/${name}`, backend, ttl, stateValues(uid, name, d?.codec ?? codec));
      state[name] = built.handle;
      if (built.cleanup) cleanups.push(built.cleanup);
    }
    this.cleanup = () => {
      for (const c of cleanups) c();
    };
    const timerService: TimerService = {
      currentProcessingTime: () => services.now,
      currentWatermark: () => services.watermark,
      registerEventTimeTimer: (t) => timers.register("e", t),
      registerProcessingTimeTimer: (t) => timers.register("p", t),
      deleteEventTimeTimer: (t) => timers.delete("e", t),
      deleteProcessingTimeTimer: (t) => timers.delete("p", t),
    };
    const ctx = {
      get key() {
        return backend.current.key as Key;
      },
      state: state as KeyedContext<Key, StateSpec, unknown>["state"],
      timers: timerService,
      timestamp: undefined as number | undefined,
      timeDomain: "event" as "event" | "processing",
      emit: (value: unknown) => next.processRecord(value, ctx.timestamp, 0),
      output: (tag: { id: string }, value: unknown) => next.processRecord(sideRecord(tag.id, value), ctx.timestamp, 0),
      getListState: operatorListStates(uid, services) as KeyedContext<Key, StateSpec, unknown>["getListState"],
      ...(op.kind === "keyedBroadcastProcess" ? readOnlyBroadcast(uid, services, op.descriptors, codec) : {}),
    };
    this.ctx = ctx;
    // The keyed broadcast function's timer context also reads broadcast state; `ctx` has it.
    const onTimer = fn.onTimer as ((t: number, c: TimerContext<Key, StateSpec, unknown>) => void) | undefined;
    const call = (t: number) => {
      ctx.timestamp = t;
      callUser(uid, () => onTimer?.call(fn, t, ctx as TimerContext<Key, StateSpec, unknown>));
    };
    this.fireEvent = (t) => {
      ctx.timeDomain = "event";
      call(t);
    };
    this.fireProcessing = (t) => {
      ctx.timeDomain = "processing";
      call(t);
    };
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
    const bundler = this.bundlers[input];
    if (this.bundle && bundler) {
      if (this.bundler !== bundler) this.finishBundle(); // another input's records: theirs first
      this.bundler = bundler;
      this.hold(this.bundle, key, enc, group, value, time);
      return;
    }
    this.finishBundle(); // a bundled input's records go first
    const cur = this.backend.current;
    cur.key = key;
    cur.enc = enc;
    cur.group = group;
    this.handle(value, time, input);
  }

  /** Adds `value` to its key's bundle (handed over at once in a record-by-record rerun). */
  private hold(
    bundle: Map<string, Bundled>,
    key: Key,
    enc: string,
    group: number,
    value: unknown,
    time: number | undefined,
  ): void {
    const b = bundle.get(enc);
    if (b) {
      b.values.push(value);
      b.time = time;
    } else bundle.set(enc, { key, group, values: [value], time });
    if (this.services.isolating) this.finishBundle();
  }

  /** Hands each key's held records to their input's bundle function, keys in order of first arrival. */
  private finishBundle(): void {
    const bundle = this.bundle;
    if (!bundle || bundle.size === 0) return;
    const take = this.bundler as Bundler;
    const { ctx, uid } = this;
    const cur = this.backend.current;
    try {
      for (const [enc, b] of bundle) {
        cur.key = b.key;
        cur.enc = enc;
        cur.group = b.group;
        ctx.timestamp = b.time;
        callUser(uid, () => take(b.values, ctx));
      }
    } finally {
      bundle.clear();
    }
  }

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

/** `getBroadcastState` of a keyed element's context: read-only. */
function readOnlyBroadcast(
  uid: string,
  services: TaskServices,
  descriptors: readonly MapStateDescriptor<Key, unknown>[],
  codec: StateCodec,
): ReadOnlyBroadcastAccess {
  const states = broadcastStates(uid, services, descriptors, codec);
  return { getBroadcastState: ((d: MapStateDescriptor<Key, unknown>) => states(d, false)) as never };
}
