/**
 * A keyed function run inside the operator of the join below it, keyed as the join is: a TopN
 * partitioned by the join's key (ranked-join.ts), a group aggregate with one group per join key
 * (aggregated-join.ts). The rows the join emits for a key's input bundle go straight into the
 * function, under the same key, instead of through a shuffle to a second keyed operator.
 */
import type { ImpliedTimers, KeyedContext, KeyedCoProcessFunction, KeyedProcessFunction } from "../api/functions.ts";
import type { StateSpec } from "../api/state.ts";
import { InternalError } from "../errors.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import type { Row } from "./expr.ts";

/**
 * The join function `join` with keyed function `inner` inside it: per key, the rows the join
 * emits for an input bundle go through `inner` at once (its bundle), and its changes are the
 * output. `inner`'s state lives beside the join's, under the join's key.
 */
export function insideJoin<J extends StateSpec, R extends StateSpec>(
  join: KeyedCoProcessFunction<Row, Row, Key, J, Row>,
  inner: KeyedProcessFunction<Row, Key, R, Change>,
): KeyedCoProcessFunction<Row, Row, Key, J & R, Change> {
  const shared = Object.keys(join.state ?? {}).filter((name) => name in (inner.state ?? {}));
  if (shared.length > 0) throw new InternalError(`a join and the function inside it share state ${shared.join(", ")}`);
  const ranked = (rows: Row[], ctx: KeyedContext<Key, J & R, Change>) => {
    if (rows.length === 0) return;
    if (inner.processBundle) inner.processBundle(rows, ctx as unknown as KeyedContext<Key, R, Change>);
    else for (const row of rows) inner.processElement(row, ctx as unknown as KeyedContext<Key, R, Change>);
  };
  // The join's context: the operator's, its output collected instead of emitted (made once per context).
  let joined: Row[] = [];
  let outer: object | undefined;
  let into: KeyedContext<Key, J, Row> | undefined;
  const collecting = (ctx: KeyedContext<Key, J & R, Change>): KeyedContext<Key, J, Row> => {
    if (ctx !== outer || !into) {
      outer = ctx;
      into = Object.create(ctx) as KeyedContext<Key, J, Row>;
      (into as { emit: (row: Row) => void }).emit = (row) => void joined.push(row);
    }
    return into;
  };
  const through = (side: (rows: readonly Row[], ctx: KeyedContext<Key, J, Row>) => void) => {
    return (rows: readonly Row[], ctx: KeyedContext<Key, J & R, Change>) => {
      joined = [];
      side(rows, collecting(ctx));
      ranked(joined, ctx);
    };
  };
  const bundle = (own: "processBundle1" | "processBundle2", one: "processElement1" | "processElement2") => {
    const f = join[own];
    return f
      ? f.bind(join)
      : (rows: readonly Row[], ctx: KeyedContext<Key, J, Row>) => {
          for (const row of rows) join[one](row, ctx);
        };
  };
  const first = through(bundle("processBundle1", "processElement1"));
  const second = through(bundle("processBundle2", "processElement2"));
  return {
    state: { ...join.state, ...inner.state } as J & R,
    processElement1: (row, ctx) => first([row], ctx),
    processElement2: (row, ctx) => second([row], ctx),
    processBundle1: first,
    processBundle2: second,
    ...(join.onTimer
      ? { onTimer: (at, ctx) => join.onTimer?.(at, ctx as unknown as Parameters<NonNullable<typeof join.onTimer>>[1]) }
      : {}),
    ...(join.bundleFirst ? { bundleFirst: join.bundleFirst } : {}),
    // The join's state that implies its timers is still the join's (the inner function sets none).
    ...(join.impliedTimers ? { impliedTimers: join.impliedTimers as ImpliedTimers<Key, J & R> } : {}),
  };
}
