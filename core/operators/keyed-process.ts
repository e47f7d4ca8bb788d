/**
 * The keyed process operator: runs a {@link KeyedProcessFunction} with keyed state
 * and timers. Rolling aggregations (reduce, sum, min, max) are built on it.
 */

import type {
  KeyedContext,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  TimerContext,
  TimerService,
} from "../api/functions.ts";
import type { ListState, MapState, StateCodec, StateSpec, ValueState } from "../api/state.ts";
import { InternalError, OperatorError, ProtocolError, RiffleError } from "../errors.ts";
import { encodeKey, type Key, keyGroupOf } from "../keys.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import { checkStateValue, decodeRich, encodeRich } from "../runtime/state-values.ts";
import { Timers } from "../runtime/timers.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";

type Fn = KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
type CoFn = KeyedCoProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
/** What a keyed operator runs: a one-input or a two-input function. */
export type KeyedOp = { readonly kind: "process"; readonly fn: Fn } | { readonly kind: "coProcess"; readonly fn: CoFn };

/** Runs a keyed process function. Always the head of its task. */
export class KeyedProcessOperator extends ForwardingOperator {
  private readonly fn: Fn | CoFn;
  /** Per input edge: the element handler (processElement, or processElement1/2 by side). */
  private readonly handlers: readonly ((value: unknown, ctx: KeyedContext<Key, StateSpec, unknown>) => void)[];
  private readonly selectors: readonly KeySelector<unknown, Key>[];
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

  constructor(
    uid: string,
    next: Operator,
    op: KeyedOp,
    selectors: readonly KeySelector<unknown, Key>[],
    sides: readonly (0 | 1)[],
    services: TaskServices,
    codec: StateCodec = "json",
  ) {
    super(uid, next);
    const fn = op.fn;
    this.fn = fn;
    this.selectors = selectors;
    this.handlers = sides.map((side) => {
      if (op.kind === "process") return (v, c) => op.fn.processElement(v, c);
      return side === 0 ? (v, c) => op.fn.processElement1(v, c) : (v, c) => op.fn.processElement2(v, c);
    });
    this.services = services;
    if (!services.backend) throw new InternalError("keyed operator without a keyed backend");
    const backend = services.backend;
    this.backend = backend;
    this.timers = new Timers(backend, uid);
    const names = Object.keys(fn.state ?? {});
    this.stateIds = [...names.map((n) => `${uid}/${n}`), this.timers.stateId];
    const state: Record<string, unknown> = {};
    for (const name of names) {
      const d = (fn.state as StateSpec)[name];
      const values = stateValues(uid, name, d?.codec ?? codec);
      state[name] = makeHandle(d?.kind ?? "value", `${uid}/${name}`, backend, values);
    }
    const timers = this.timers;
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
    };
    this.ctx = ctx;
    const onTimer = fn.onTimer;
    const call = (t: number) => {
      ctx.timestamp = t;
      try {
        onTimer?.call(fn, t, ctx as TimerContext<Key, StateSpec, unknown>);
      } catch (cause) {
        if (cause instanceof RiffleError) throw cause;
        throw new OperatorError(uid, cause);
      }
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
  keyOf(value: unknown, input: number): { key: Key; enc: string } {
    const key = (this.selectors[input] as KeySelector<unknown, Key>)(value);
    return { key, enc: encodeKey(key) };
  }

  processRecord(value: unknown, time: number | undefined, input: number): void {
    let key: Key;
    let enc: string;
    try {
      ({ key, enc } = this.keyOf(value, input));
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    const group = keyGroupOf(enc, this.services.maxParallelism);
    const { start, end } = this.services.keyGroups;
    if (group < start || group > end) {
      throw new ProtocolError(`key ${enc} (key group ${group}) reached a partition owning key groups ${start}-${end}`);
    }
    const cur = this.backend.current;
    cur.key = key;
    cur.enc = enc;
    cur.group = group;
    this.ctx.timestamp = time;
    try {
      (this.handlers[input] as (v: unknown, c: KeyedContext<Key, StateSpec, unknown>) => void)(value, this.ctx);
    } catch (cause) {
      if (cause instanceof RiffleError) throw cause;
      throw new OperatorError(this.uid, cause);
    }
  }

  override processWatermark(watermark: number): void {
    this.timers.fire("e", watermark, this.fireEvent);
    this.next.processWatermark(watermark);
  }

  override processTime(now: number): void {
    this.timers.fire("p", now, this.fireProcessing);
    this.next.processTime(now);
  }

  override notifyCheckpointComplete(n: number): void {
    try {
      this.fn.notifyCheckpointComplete?.(n);
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    this.next.notifyCheckpointComplete?.(n);
  }

  override endInput(): void {
    this.timers.fire("e", Number.POSITIVE_INFINITY, this.fireEvent);
    this.timers.fire("p", Number.POSITIVE_INFINITY, this.fireProcessing);
    this.next.endInput();
  }
}

/** How one state's values go in and out: checked (and, for the rich codec, encoded) on write, decoded on read. */
interface StateValues {
  readonly write: (v: unknown) => unknown;
  readonly read: ((v: unknown) => unknown) | undefined;
}

function stateValues(uid: string, name: string, codec: StateCodec): StateValues {
  const rich = codec === "rich";
  return {
    write: (v) => {
      checkStateValue(uid, name, v, codec);
      return rich ? encodeRich(v) : v;
    },
    read: rich ? decodeRich : undefined,
  };
}

function makeHandle(kind: "value" | "list" | "map", id: string, b: KeyedBackend, io: StateValues): unknown {
  const { write, read } = io;
  switch (kind) {
    case "value":
      return {
        value: read ? () => read(b.get(id)) : () => b.get(id),
        update: (v: unknown) => {
          if (v === undefined) throw new TypeError(`state '${id}': update(undefined) is not allowed; use clear()`);
          b.set(id, write(v));
        },
        clear: () => b.set(id, undefined),
      } satisfies ValueState<unknown>;
    case "list": {
      const list = () => (b.get(id) as unknown[] | undefined) ?? [];
      return {
        get: read ? () => list().map(read) : list,
        // Copy on write: get() hands out the list itself, so it is never changed in place.
        add: (v: unknown) => b.set(id, [...list(), write(v)]),
        update: (vs: readonly unknown[]) => b.set(id, vs.length ? vs.map(write) : undefined),
        clear: () => b.set(id, undefined),
      } satisfies ListState<unknown>;
    }
    case "map": {
      const obj = () => (b.get(id) as Record<string, unknown> | undefined) ?? {};
      const out = read ?? ((v: unknown) => v);
      return {
        get: (k: string) => (Object.hasOwn(obj(), k) ? out(obj()[k]) : undefined),
        has: (k: string) => Object.hasOwn(obj(), k),
        // The map object never leaves this handle, so after a batch's first write (a copy
        // of the committed map) later writes of the batch may change that copy in place.
        put: (k: string, value: unknown) => {
          const v = write(value);
          const own = b.owned(id) as Record<string, unknown> | undefined;
          if (own) own[k] = v;
          else b.set(id, { ...obj(), [k]: v });
        },
        remove: (k: string) => {
          if (!Object.hasOwn(obj(), k)) return;
          const own = b.owned(id) as Record<string, unknown> | undefined;
          if (own && Object.keys(own).length > 1) {
            delete own[k];
            return;
          }
          const { [k]: _, ...rest } = obj();
          b.set(id, Object.keys(rest).length ? rest : undefined);
        },
        entries: read ? () => Object.entries(obj()).map(([k, v]) => [k, read(v)]) : () => Object.entries(obj()),
        size: () => Object.keys(obj()).length,
        clear: () => b.set(id, undefined),
      } satisfies MapState<unknown>;
    }
  }
}
