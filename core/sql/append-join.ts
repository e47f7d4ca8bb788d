/**
 * The inner join of two insert-only inputs: rows in, joined rows out (+I only, so no change
 * objects around them), and, when the condition bounds the time of one side by the other's row
 * (join-bounds.ts), an interval join whose state the watermark expires.
 *
 * Per join key and side, one map state: the side's rows under a sequence number (entry `n` is
 * the next one). Nothing is ever retracted, so no row needs to be found again by its value: a
 * row is stored once, never serialized for a key. A row arriving joins every stored row of the
 * other side that passes the residual condition, then is stored unless its expiry has passed
 * already (the watermark is at or past it: nothing still to come can join it). A stored row is
 * dropped by an event-time timer of its key at its expiry (computed again from the row), rounded
 * up to {@link TIMER_STEP_MS} so that a key holds few timers however many rows it has.
 *
 * When the other side's rows are unique on the join key (unique-keys.ts) and its row of the key
 * is stored, a row is not stored: the only row it can ever join is that one (read alone, as its
 * side's first entry, not the side's whole map). When this side's are, its row drops the other
 * side's rows it has joined: no other row can join them.
 *
 * The function takes an envelope's rows of a key at once (`processBundle1/2`): the other side's
 * rows are read once for them all, the sequence number once, and a timer once per step.
 */
import type { KeyedContext, KeyedCoProcessFunction, TimerContext } from "../api/functions.ts";
import { type MapState, mapState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Compiled, Row } from "./expr.ts";
import { hasNull } from "./join.ts";
import type { JoinCode } from "./join-code.ts";

/** A side's rows by sequence number, and under {@link NEXT} the next sequence number. */
type SideState = ReturnType<typeof mapState<Row | number>>;
type AppendState = { left: SideState; right: SideState };

/** The entry holding a side's next sequence number. */
const NEXT = "n";
/** The entry of a side's first row (a side unique on the key has no other). */
const FIRST = "0";
/** Expiry timers fall on multiples of this (ms): a stored row outlives its expiry by less. */
export const TIMER_STEP_MS = 1000;

/** Per side: its rows' expiry (see join-bounds.ts), undefined for a side whose rows stay. */
export interface Expiries {
  readonly left: Compiled | undefined;
  readonly right: Compiled | undefined;
}

/** Per side: whether its rows are unique on the join key (unique-keys.ts): at most one row per key, ever. */
export interface UniqueSides {
  readonly left: boolean;
  readonly right: boolean;
}

/** The keyed co-process function of an inner join of insert-only inputs (see the module comment). */
export function appendJoin<T = Row>(
  code: JoinCode<T>,
  expiries: Expiries,
  unique: UniqueSides = { left: false, right: false },
): KeyedCoProcessFunction<Row, Row, Key, AppendState, T> {
  const { residual, concat } = code;
  /** Joins a key's rows of one side (an envelope's, or one) with the other side's, then stores those not yet expired. */
  const side = (mine: "left" | "right") => {
    const expiry = expiries[mine];
    const isLeft = mine === "left";
    const theirs = isLeft ? "right" : "left";
    const theyAreUnique = unique[theirs];
    const iAmUnique = unique[mine];
    return (rows: readonly Row[], ctx: KeyedContext<Key, AppendState, T>) => {
      if (hasNull(ctx.key)) return;
      if (theyAreUnique) {
        // Their only row of the key, if it came, is their first (entry 0): rows that come after it join it and are not stored.
        const one = ctx.state[theirs].get(FIRST) as Row | undefined;
        if (one !== undefined) {
          for (const row of rows) {
            const l = isLeft ? row : one;
            const r = isLeft ? one : row;
            if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
          }
          return;
        }
      }
      const stored = theyAreUnique ? [] : ctx.state[theirs].entries();
      if (stored.length > 0)
        for (const row of rows)
          for (const [k, v] of stored) {
            if (k === NEXT) continue;
            const l = isLeft ? row : (v as Row);
            const r = isLeft ? (v as Row) : row;
            if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
          }
      // This side's only row of the key has met the other side's rows: nothing else can join them,
      // and their expiry timers have nothing left to drop (this row's own timer is set below).
      if (iAmUnique && stored.length > 0) {
        ctx.state[theirs].clear();
        const theirExpiry = expiries[theirs];
        if (theirExpiry !== undefined)
          for (const t of timersOf(stored, theirExpiry)) ctx.timers.deleteEventTimeTimer(t);
      }
      const store = ctx.state[mine];
      let seq: number | undefined;
      let timer = Number.NaN;
      for (const row of rows) {
        if (expiry !== undefined) {
          const at = expiry(row) as number;
          if (at <= ctx.timers.currentWatermark()) continue;
          const t = timerOf(at);
          if (t !== timer) ctx.timers.registerEventTimeTimer(t);
          timer = t;
        }
        seq ??= (store.get(NEXT) as number | undefined) ?? 0;
        store.put(String(seq++), row);
      }
      if (seq !== undefined) store.put(NEXT, seq);
    };
  };
  const left = side("left");
  const right = side("right");
  return {
    state: { left: mapState<Row | number>(), right: mapState<Row | number>() },
    processElement1: (row, ctx) => left([row], ctx),
    processElement2: (row, ctx) => right([row], ctx),
    // An envelope's rows of a key at once: the other side's rows read once, the sequence once.
    processBundle1: left,
    processBundle2: right,
    onTimer(at: number, ctx: TimerContext<Key, AppendState, T>) {
      expire(ctx.state.left, expiries.left, at, unique.left);
      expire(ctx.state.right, expiries.right, at, unique.right);
    },
  };
}

/** The timer of a row expiring at `at`: the next multiple of {@link TIMER_STEP_MS}. */
const timerOf = (at: number): number => Math.ceil(at / TIMER_STEP_MS) * TIMER_STEP_MS;

/** The distinct timers of stored rows `entries` (a side's map entries, {@link NEXT} among them) under `expiry`. */
function timersOf(entries: readonly [string, Row | number][], expiry: Compiled): Set<number> {
  const out = new Set<number>();
  for (const [k, v] of entries) if (k !== NEXT) out.add(timerOf(expiry(v as Row) as number));
  return out;
}

/**
 * Drops the rows of `store` whose `expiry` is at or before `at`; an emptied side forgets its
 * sequence too. A side `unique` on the key has one row, its first: read alone.
 */
function expire(store: MapState<Row | number>, expiry: Compiled | undefined, at: number, unique: boolean): void {
  if (expiry === undefined) return;
  if (unique) {
    const one = store.get(FIRST) as Row | undefined;
    if (one !== undefined && (expiry(one) as number) <= at) store.clear();
    return;
  }
  const entries = store.entries();
  if (entries.length === 0) return;
  const gone = entries.filter(([k, v]) => k !== NEXT && (expiry(v as Row) as number) <= at);
  if (gone.length === entries.length - 1) store.clear();
  else for (const [k] of gone) store.remove(k);
}
