/**
 * The inner join of two insert-only inputs: rows in, joined rows out (+I only, so no change
 * objects around them), and, when the condition bounds the time of one side by the other's row
 * (join-bounds.ts), an interval join whose state the watermark expires.
 *
 * Per join key and side, one state. A side's rows in a map state under a sequence number (entry
 * `n` is the next one). Nothing is ever retracted, so no row needs to be found again by its value:
 * a row is stored once, never serialized for a key. A row arriving joins every stored row of the
 * other side that passes the residual condition, then is stored unless its expiry has passed
 * already (the watermark is at or past it: nothing still to come can join it). A stored row is
 * dropped by an event-time timer of its key at its expiry (computed again from the row), rounded
 * up to {@link TIMER_STEP_MS} so that a key holds few timers however many rows it has.
 *
 * A side whose rows are unique on the join key (unique-keys.ts) keeps its one row in a value
 * state ({@link UNIQUE_LAYOUT}). A row of the other side that finds it is not stored: the only row
 * it can ever join is that one. When it arrives, it drops the other side's rows it has joined: no
 * other row can join them. Its expiry timer is one the state implies (`impliedTimers`): nothing
 * is written for it, as a window's end needs no stored timer.
 *
 * The function takes an envelope's rows of a key at once (`processBundle1/2`): the other side's
 * rows are read once for them all, the sequence number once, and a timer once per step.
 */
import type { KeyedContext, KeyedCoProcessFunction, TimerContext } from "../api/functions.ts";
import { type MapState, mapState, type ValueState, valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Compiled, Row } from "./expr.ts";
import { hasNull } from "./join.ts";
import type { JoinCode } from "./join-code.ts";

/** A side's rows by sequence number, and under {@link NEXT} the next sequence number. */
type RowsState = ReturnType<typeof mapState<Row | number>>;
/** A side's state: its rows, or for a side unique on the key its one row. */
type SideState = RowsState | ReturnType<typeof valueState<Row>>;
type AppendState = { left: SideState; right: SideState };
/** A context's handles of the two sides' states (which of the two kinds each is, the side's uniqueness tells). */
type Handles = { readonly state: { readonly left: unknown; readonly right: unknown } };

/** The entry holding a side's next sequence number. */
const NEXT = "n";
/** Expiry timers fall on multiples of this (ms): a stored row outlives its expiry by less. */
export const TIMER_STEP_MS = 1000;
/**
 * The state layout of a join with a side unique on the key (a value state of its one row, whose
 * expiry timer it implies), after the join's uid: version 2 kept the row in a map state.
 */
export const UNIQUE_LAYOUT = "u1";

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
  const one = (ctx: Handles, side: "left" | "right") => ctx.state[side] as ValueState<Row>;
  const rows = (ctx: Handles, side: "left" | "right") => ctx.state[side] as MapState<Row | number>;
  // The side whose one row's expiry timer its state implies: the first unique side that expires.
  const implied = (["left", "right"] as const).find((s) => unique[s] && expiries[s] !== undefined);
  /** Joins a key's rows of one side (an envelope's, or one) with the other side's, then stores those not yet expired. */
  const side = (mine: "left" | "right") => {
    const expiry = expiries[mine];
    const isLeft = mine === "left";
    const theirs = isLeft ? "right" : "left";
    const theyAreUnique = unique[theirs];
    const iAmUnique = unique[mine];
    return (arrived: readonly Row[], ctx: KeyedContext<Key, AppendState, T>) => {
      if (hasNull(ctx.key)) return;
      if (theyAreUnique) {
        // Their only row of the key, if it came: rows that come after it join it and are not stored.
        const row1 = one(ctx, theirs).value();
        if (row1 !== undefined) {
          for (const row of arrived) {
            const l = isLeft ? row : row1;
            const r = isLeft ? row1 : row;
            if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
          }
          return;
        }
      }
      const stored = theyAreUnique ? [] : rows(ctx, theirs).entries();
      if (stored.length > 0)
        for (const row of arrived)
          for (const [k, v] of stored) {
            if (k === NEXT) continue;
            const l = isLeft ? row : (v as Row);
            const r = isLeft ? (v as Row) : row;
            if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
          }
      // This side's only row of the key has met the other side's rows: nothing else can join them,
      // and their expiry timers have nothing left to drop (this row's own timer is set below).
      if (iAmUnique && stored.length > 0) {
        rows(ctx, theirs).clear();
        const theirExpiry = expiries[theirs];
        if (theirExpiry !== undefined)
          for (const t of timersOf(stored, theirExpiry)) ctx.timers.deleteEventTimeTimer(t);
      }
      if (iAmUnique) storeOne(arrived, one(ctx, mine), expiry, ctx);
      else storeRows(arrived, rows(ctx, mine), expiry, ctx);
    };
  };
  const left = side("left");
  const right = side("right");
  return {
    state: { left: stateOf(unique.left), right: stateOf(unique.right) },
    processElement1: (row, ctx) => left([row], ctx),
    processElement2: (row, ctx) => right([row], ctx),
    // An envelope's rows of a key at once: the other side's rows read once, the sequence once.
    processBundle1: left,
    processBundle2: right,
    // A slice's rows of a unique side first: the other side's rows of its keys then meet them, and are not stored.
    ...(unique.left ? { bundleFirst: 1 as const } : unique.right ? { bundleFirst: 2 as const } : {}),
    onTimer(at: number, ctx: TimerContext<Key, AppendState, T>) {
      for (const s of ["left", "right"] as const) {
        const expiry = expiries[s];
        if (expiry === undefined) continue;
        if (unique[s]) expireOne(one(ctx, s), expiry, at);
        else expire(rows(ctx, s), expiry, at);
      }
    },
    ...(implied
      ? {
          impliedTimers: {
            state: implied,
            // NaN (no time) while the key holds no row of that side: a timer then is the other side's.
            at: (_key: Key, row: unknown) =>
              row === undefined ? Number.NaN : timerOf((expiries[implied] as Compiled)(row as Row) as number),
            // The other side's rows, stored before the unique side's row came, have stored timers.
            storesOthers: expiries[implied === "left" ? "right" : "left"] !== undefined,
          },
        }
      : {}),
  };
}

/** A side's state: a value state of its one row when unique on the key, else a map of its rows. */
const stateOf = (unique: boolean): SideState => (unique ? valueState<Row>() : mapState<Row | number>());

/** Stores `arrived`'s rows not yet expired under their sequence numbers, with their expiry timers. */
function storeRows(
  arrived: readonly Row[],
  store: MapState<Row | number>,
  expiry: Compiled | undefined,
  ctx: KeyedContext<Key, AppendState, unknown>,
): void {
  let seq: number | undefined;
  let timer = Number.NaN;
  for (const row of arrived) {
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
}

/**
 * Stores a unique side's row (an envelope holds one, or none: the key's row came before), unless
 * it has expired, then registers its expiry timer (which the state may imply: written first).
 */
function storeOne(
  arrived: readonly Row[],
  store: ValueState<Row>,
  expiry: Compiled | undefined,
  ctx: KeyedContext<Key, AppendState, unknown>,
): void {
  for (const row of arrived) {
    const at = expiry === undefined ? undefined : (expiry(row) as number);
    if (at !== undefined && at <= ctx.timers.currentWatermark()) continue;
    store.update(row);
    if (at !== undefined) ctx.timers.registerEventTimeTimer(timerOf(at));
  }
}

/** Drops a unique side's row once its `expiry` is at or before `at`. */
function expireOne(store: ValueState<Row>, expiry: Compiled, at: number): void {
  const row = store.value();
  if (row !== undefined && (expiry(row) as number) <= at) store.clear();
}

/** The timer of a row expiring at `at`: the next multiple of {@link TIMER_STEP_MS}. */
const timerOf = (at: number): number => Math.ceil(at / TIMER_STEP_MS) * TIMER_STEP_MS;

/** The distinct timers of stored rows `entries` (a side's map entries, {@link NEXT} among them) under `expiry`. */
function timersOf(entries: readonly [string, Row | number][], expiry: Compiled): Set<number> {
  const out = new Set<number>();
  for (const [k, v] of entries) if (k !== NEXT) out.add(timerOf(expiry(v as Row) as number));
  return out;
}

/** Drops the rows of `store` whose `expiry` is at or before `at`; an emptied side forgets its sequence too. */
function expire(store: MapState<Row | number>, expiry: Compiled, at: number): void {
  const entries = store.entries();
  if (entries.length === 0) return;
  const gone = entries.filter(([k, v]) => k !== NEXT && (expiry(v as Row) as number) <= at);
  if (gone.length === entries.length - 1) store.clear();
  else for (const [k] of gone) store.remove(k);
}
