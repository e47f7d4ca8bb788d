/**
 * The keyed co-process function of the window join of distinct window aggregates
 * (window-join.ts), keyed by the join key, which holds the window. Per key, each side's distinct
 * groups (rows) of the window in one value state. A group new to its side joins every group of
 * the other side that passes the residual condition, at once; a group seen before adds nothing.
 * A row whose window the watermark has passed is late (the window aggregate would have emitted
 * the window already) and is dropped. An event-time timer at the window's end drops the key's
 * groups: a timer the groups imply (`impliedTimers`), so nothing is written for it.
 *
 * The watermark is the operator's: the lesser of its two inputs'. Where the two sides' window
 * aggregates would each drop a row late by its own input's watermark, this drops it by both.
 */
import type { KeyedContext, KeyedCoProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Row } from "./expr.ts";
import { sameValue } from "./extreme-join.ts";
import { hasNull } from "./join.ts";
import type { JoinCode } from "./join-code.ts";

/** A key's groups: the left side's, then the right side's, each in arrival order. */
type Groups = readonly [left: readonly Row[], right: readonly Row[]];
type State = { groups: ReturnType<typeof valueState<Groups>> };

const NONE: readonly Row[] = [];

/** True when two groups are one: each column equal as a join key compares it. */
function sameGroup(a: Row, b: Row): boolean {
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

/**
 * The window join running `code` (its residual: the join's condition beyond the key), whose
 * window ends at `endOf(key)`.
 */
export function windowJoin<T>(
  code: JoinCode<T>,
  endOf: (key: Key) => number,
): KeyedCoProcessFunction<Row, Row, Key, State, T> {
  const { residual, concat } = code;
  /** Adds a key's rows of one side (an envelope's, or one), joining each new group with the other side's. */
  const side = (isLeft: boolean) => (rows: readonly Row[], ctx: KeyedContext<Key, State, T>) => {
    if (hasNull(ctx.key)) return; // a null key joins nothing
    const end = endOf(ctx.key);
    if (end - 1 <= ctx.timers.currentWatermark()) return;
    const before = ctx.state.groups.value();
    const theirs = before ? before[isLeft ? 1 : 0] : NONE;
    let mine = before ? before[isLeft ? 0 : 1] : NONE;
    let copied = false;
    for (const row of rows) {
      if (mine.some((g) => sameGroup(g, row))) continue;
      if (!copied) {
        mine = [...mine];
        copied = true;
      }
      (mine as Row[]).push(row);
      for (const other of theirs) {
        const l = isLeft ? row : other;
        const r = isLeft ? other : row;
        if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
      }
    }
    if (!copied) return;
    if (!before) ctx.timers.registerEventTimeTimer(end - 1);
    ctx.state.groups.update(isLeft ? [mine, theirs] : [theirs, mine]);
  };
  const left = side(true);
  const right = side(false);
  return {
    state: { groups: valueState<Groups>() },
    // A key holds groups until its window's end, so its timer is implied, not stored.
    impliedTimers: { state: "groups", at: (key) => endOf(key) - 1 },
    processElement1: (row, ctx) => left([row], ctx),
    processElement2: (row, ctx) => right([row], ctx),
    // An envelope's rows of a key at once: the key's groups read and written once.
    processBundle1: left,
    processBundle2: right,
    onTimer(_time, ctx) {
      ctx.state.groups.clear();
    },
  };
}
