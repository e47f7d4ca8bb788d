/**
 * The unfused window aggregate: one keyed operator per (key, window), the window's end in the key,
 * fed by the window table function's rows (one per window of a row). Used where the fused one
 * (`window-aggregate.ts`) is not: when an aggregate keeps value counts (DISTINCT), or the window
 * columns are read by more than the grouping key.
 */
import type { KeyedProcessFunction } from "../api/functions.ts";
import { mapState, valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { type Acc, type AggState, accumulators, type CountStore } from "./aggregate.ts";
import type { Row } from "./expr.ts";
import type { AggCall } from "./logical.ts";

/**
 * The keyed process function of a window aggregate: the key holds the window's end (at key
 * position `endKey`); rows accumulate until the watermark passes the end, then the window's row
 * is emitted once and its state dropped. Rows of a window already emitted are late, and dropped.
 * Over processing time (`proctime`), the same with the clock for the watermark.
 */
export function windowAggregate(
  groupKeys: number,
  aggs: readonly AggCall[],
  endKey: number,
  proctime = false,
): KeyedProcessFunction<Row, Key, AggState, Row> {
  let store: CountStore | undefined;
  const accs = accumulators(groupKeys, aggs, false, () => store as CountStore);
  return {
    state: { acc: valueState<Acc>(), counts: mapState<number>({ hashed: true }) },
    // In event time, a key holds its accumulators until its window's end: the timer is implied, not stored.
    ...(proctime ? {} : { impliedTimers: { state: "acc", at: (key: Key) => ((key as Row)[endKey] as number) - 1 } }),
    processElement(row, ctx) {
      store = ctx.state.counts;
      const fireAt = (row[endKey] as number) - 1;
      const t = ctx.timers;
      if (fireAt <= (proctime ? t.currentProcessingTime() : t.currentWatermark())) return;
      const before = ctx.state.acc.value();
      if (!before) {
        if (proctime) t.registerProcessingTimeTimer(fireAt);
        else t.registerEventTimeTimer(fireAt);
      }
      ctx.state.acc.update(accs.add(before ?? accs.empty(), row, 1));
    },
    onTimer(_time, ctx) {
      store = ctx.state.counts;
      const acc = ctx.state.acc.value();
      if (!acc) return;
      // The key is the group's leading columns.
      ctx.emit(accs.output(ctx.key as Row, acc));
      ctx.state.acc.clear();
      ctx.state.counts.clear();
    },
  };
}
