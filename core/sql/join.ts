/**
 * The regular (unbounded) join, inner or outer: both sides' rows, per join key, in keyed map
 * state (row's JSON → row, multiplicity and, for an outer side, how many rows of the other side
 * it joins), exactly once like every keyed riffle operator. A row that arrives joins every stored
 * row of the other side that passes the residual condition; a retraction retracts what it joined.
 *
 * An outer side (LEFT's left, RIGHT's right, both of FULL) also emits its rows that join nothing,
 * padded with NULLs for the other side's columns; as in Flink, when such a row finds its first
 * match the padded row is retracted (-D) before the joined one is inserted (+I), and when its
 * last match is retracted the padded row comes back (+I). A row whose join key holds a NULL joins
 * nothing. As in Flink, nothing is ever dropped from state.
 */
import type { KeyedContext, KeyedCoProcessFunction } from "../api/functions.ts";
import { mapState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import type { Row } from "./expr.ts";
import type { JoinCode } from "./join-code.ts";

/**
 * A stored row, how many times it is there, and (on an outer side) how many rows of the other
 * side it joins: by the row's JSON, so that no read parses it, or on an insert-only side by a
 * sequence number (its rows are never looked up again; entry {@link NEXT} holds the next one).
 */
type Stored = readonly [row: Row, times: number, matches?: number];
type SideState = ReturnType<typeof mapState<Stored | number>>;
type JoinState = { left: SideState; right: SideState };
type Ctx = KeyedContext<Key, JoinState, Change>;

/** The entry of an insert-only side's map holding its next sequence number (no row's JSON is "n"). */
const NEXT = "n";

/** Which sides of a join are outer (keep their rows that join nothing), and each side's column count. */
export interface JoinSides {
  readonly leftOuter: boolean;
  readonly rightOuter: boolean;
  readonly leftWidth: number;
  readonly rightWidth: number;
  /**
   * Whether each input is insert-only (never retracts): such a side's rows are stored under a
   * sequence number instead of their JSON, and it takes an envelope's rows of a key at once.
   */
  readonly leftInsertOnly?: boolean;
  readonly rightInsertOnly?: boolean;
}

/**
 * The keyed co-process function of a regular join with `sides` running `code` (its residual
 * tested on the two rows before they are concatenated); inputs are changes, and so is its
 * output (+I and -D).
 */
export function regularJoin(
  code: JoinCode,
  sides: JoinSides,
): KeyedCoProcessFunction<Change, Change, Key, JoinState, Change> {
  const left = sideOf("left", code, sides);
  const right = sideOf("right", code, sides);
  return {
    state: { left: mapState<Stored | number>(), right: mapState<Stored | number>() },
    processElement1: (change, ctx) => left([change], ctx),
    processElement2: (change, ctx) => right([change], ctx),
    ...(left.bundles ? { processBundle1: left } : {}),
    ...(right.bundles ? { processBundle2: right } : {}),
  };
}

/** What one side does with a key's changes (in order), and whether it may take an envelope's at once. */
type Side = ((changes: readonly Change[], ctx: Ctx) => void) & { readonly bundles: boolean };

/**
 * The changes of side `mine` of a join: each joins the other side's stored rows, then is stored.
 * The other side's rows are read once for all of `changes` when it holds no outer counts to
 * update (so nothing changes them meanwhile); an insert-only side reads its sequence number once.
 */
function sideOf(mine: "left" | "right", code: JoinCode, sides: JoinSides): Side {
  const isLeft = mine === "left";
  const outer = isLeft ? sides.leftOuter : sides.rightOuter;
  const otherOuter = isLeft ? sides.rightOuter : sides.leftOuter;
  const insertOnly = (isLeft ? sides.leftInsertOnly : sides.rightInsertOnly) === true;
  const leftNulls: Row = new Array(sides.leftWidth).fill(null);
  const rightNulls: Row = new Array(sides.rightWidth).fill(null);
  const { residual, concat } = code;
  const join = isLeft ? concat : (row: Row, otherRow: Row) => concat(otherRow, row);
  const passes = residual === undefined || isLeft ? residual : (row: Row, otherRow: Row) => residual(otherRow, row);
  const padMine = (row: Row) => join(row, isLeft ? rightNulls : leftNulls);
  const padOther = (otherRow: Row) => (isLeft ? concat(leftNulls, otherRow) : concat(otherRow, rightNulls));
  const emit = (ctx: Ctx, kind: "+I" | "-D", row: Row, times: number) => {
    for (let i = 0; i < times; i++) ctx.emit({ kind, row });
  };
  /** Joins `row` with the other side's `entries`; how many rows it joined. */
  const probe = (row: Row, add: boolean, entries: readonly [string, Stored | number][], ctx: Ctx) => {
    let matched = 0;
    for (const [k, v] of entries) {
      if (k === NEXT) continue;
      const [otherRow, times, matches = 0] = v as Stored;
      if (passes && passes(row, otherRow) !== true) continue;
      const joined = join(row, otherRow);
      matched += times;
      if (otherOuter) {
        const now = matches + (add ? 1 : -1);
        if (add && matches === 0) emit(ctx, "-D", padOther(otherRow), times);
        emit(ctx, add ? "+I" : "-D", joined, times);
        if (!add && now === 0) emit(ctx, "+I", padOther(otherRow), times);
        (isLeft ? ctx.state.right : ctx.state.left).put(k, [otherRow, times, now]);
      } else emit(ctx, add ? "+I" : "-D", joined, times);
    }
    return matched;
  };
  const none: readonly [string, Stored | number][] = [];
  const side = (changes: readonly Change[], ctx: Ctx) => {
    const other = isLeft ? ctx.state.right : ctx.state.left;
    const store = ctx.state[mine];
    const keyHasNull = hasNull(ctx.key);
    let entries: readonly [string, Stored | number][] | undefined;
    let seq: number | undefined;
    for (const change of changes) {
      const add = change.kind === "+I" || change.kind === "+U";
      // An outer other side's counts change as rows join: it is read again for each change.
      if (keyHasNull) entries = none;
      else if (otherOuter || entries === undefined) entries = other.entries();
      const matched = probe(change.row, add, entries, ctx);
      if (outer && matched === 0) emit(ctx, add ? "+I" : "-D", padMine(change.row), 1);
      if (insertOnly) {
        seq ??= (store.get(NEXT) as number | undefined) ?? 0;
        store.put(String(seq++), outer ? [change.row, 1, matched] : [change.row, 1]);
        continue;
      }
      const k = JSON.stringify(change.row);
      const n = ((store.get(k) as Stored | undefined)?.[1] ?? 0) + (add ? 1 : -1);
      if (n === 0) store.remove(k);
      else store.put(k, outer ? [change.row, n, matched] : [change.row, n]);
    }
    if (seq !== undefined) store.put(NEXT, seq);
  };
  return Object.assign(side, { bundles: insertOnly && !otherOuter });
}

/** True when a join key holds a NULL (which equals nothing in SQL). */
export function hasNull(key: Key): boolean {
  return key === null || (Array.isArray(key) && key.some(hasNull));
}
