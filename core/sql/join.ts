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
 * side it joins; by the row's JSON, so that no read parses it.
 */
type Stored = readonly [row: Row, times: number, matches?: number];
type JoinState = { left: ReturnType<typeof mapState<Stored>>; right: ReturnType<typeof mapState<Stored>> };
type Ctx = KeyedContext<Key, JoinState, Change>;

/** Which sides of a join are outer (keep their rows that join nothing), and each side's column count. */
export interface JoinSides {
  readonly leftOuter: boolean;
  readonly rightOuter: boolean;
  readonly leftWidth: number;
  readonly rightWidth: number;
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
  const leftNulls: Row = new Array(sides.leftWidth).fill(null);
  const rightNulls: Row = new Array(sides.rightWidth).fill(null);
  const side = (mine: "left" | "right") => {
    const outer = mine === "left" ? sides.leftOuter : sides.rightOuter;
    const otherOuter = mine === "left" ? sides.rightOuter : sides.leftOuter;
    const { residual, concat } = code;
    const join = mine === "left" ? concat : (row: Row, otherRow: Row) => concat(otherRow, row);
    const passes =
      residual === undefined
        ? undefined
        : mine === "left"
          ? residual
          : (row: Row, otherRow: Row) => residual(otherRow, row);
    const padMine = (row: Row) => join(row, mine === "left" ? rightNulls : leftNulls);
    const padOther = (otherRow: Row) => (mine === "left" ? [...leftNulls, ...otherRow] : [...otherRow, ...rightNulls]);
    return (change: Change, ctx: Ctx) => {
      const other = mine === "left" ? ctx.state.right : ctx.state.left;
      const store = ctx.state[mine];
      const add = change.kind === "+I" || change.kind === "+U";
      const emit = (kind: "+I" | "-D", row: Row, times: number) => {
        for (let i = 0; i < times; i++) ctx.emit({ kind, row });
      };
      let matched = 0;
      if (!hasNull(ctx.key))
        for (const [k, [otherRow, times, matches = 0]] of other.entries()) {
          if (passes && passes(change.row, otherRow) !== true) continue;
          const joined = join(change.row, otherRow);
          matched += times;
          if (otherOuter) {
            const now = matches + (add ? 1 : -1);
            if (add && matches === 0) emit("-D", padOther(otherRow), times);
            emit(add ? "+I" : "-D", joined, times);
            if (!add && now === 0) emit("+I", padOther(otherRow), times);
            other.put(k, [otherRow, times, now]);
          } else emit(add ? "+I" : "-D", joined, times);
        }
      if (outer && matched === 0) emit(add ? "+I" : "-D", padMine(change.row), 1);
      const k = JSON.stringify(change.row);
      const n = (store.get(k)?.[1] ?? 0) + (add ? 1 : -1);
      if (n === 0) store.remove(k);
      else store.put(k, outer ? [change.row, n, matched] : [change.row, n]);
    };
  };
  const left = side("left");
  const right = side("right");
  return {
    state: { left: mapState<Stored>(), right: mapState<Stored>() },
    processElement1: (change, ctx) => left(change, ctx),
    processElement2: (change, ctx) => right(change, ctx),
  };
}

/** True when a join key holds a NULL (which equals nothing in SQL). */
export function hasNull(key: Key): boolean {
  return key === null || (Array.isArray(key) && key.some(hasNull));
}
