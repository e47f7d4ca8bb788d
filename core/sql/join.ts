/**
 * The regular (unbounded) inner join: both sides' rows, per join key, in keyed map state
 * (row's JSON → row and multiplicity), exactly once like every keyed riffle operator. A row that arrives
 * joins every stored row of the other side that passes the residual condition; a retraction
 * retracts what it joined. As in Flink, nothing is ever dropped from state.
 */
import type { KeyedContext, KeyedCoProcessFunction } from "../api/functions.ts";
import { mapState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import type { Compiled, Row } from "./expr.ts";

/** A stored row and how many times it is there, by the row's JSON (so that no read parses it). */
type Stored = readonly [row: Row, times: number];
type JoinState = { left: ReturnType<typeof mapState<Stored>>; right: ReturnType<typeof mapState<Stored>> };

/**
 * The keyed co-process function of an inner join; inputs are changes, and so is its output
 * (inserts join as +I, retractions as -D).
 */
export function innerJoin(
  residual: Compiled | undefined,
): KeyedCoProcessFunction<Change, Change, Key, JoinState, Change> {
  const side = (mine: "left" | "right") => (change: Change, ctx: KeyedContext<Key, JoinState, Change>) => {
    const other = mine === "left" ? ctx.state.right : ctx.state.left;
    const store = ctx.state[mine];
    const add = change.kind === "+I" || change.kind === "+U";
    const k = JSON.stringify(change.row);
    const n = (store.get(k)?.[1] ?? 0) + (add ? 1 : -1);
    if (n === 0) store.remove(k);
    else store.put(k, [change.row, n]);
    for (const [, [otherRow, times]] of other.entries()) {
      const joined = mine === "left" ? [...change.row, ...otherRow] : [...otherRow, ...change.row];
      if (residual && residual(joined) !== true) continue;
      for (let i = 0; i < times; i++) ctx.emit({ kind: add ? "+I" : "-D", row: joined });
    }
  };
  const left = side("left");
  const right = side("right");
  return {
    state: { left: mapState<Stored>(), right: mapState<Stored>() },
    processElement1: (change, ctx) => left(change, ctx),
    processElement2: (change, ctx) => right(change, ctx),
  };
}
