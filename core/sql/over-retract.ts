/**
 * The OVER aggregate over an updating input, which Flink refuses (its OVER operators take
 * inserts only; the public Nexmark q6 needs it, over a TopN). Per partition key, the current
 * rows sorted by time (ties by the whole row, as everywhere in riffle's SQL) in keyed state;
 * a change of one row changes the results of the rows whose frame holds it, and only those
 * are retracted and emitted again, at once (there is no watermark to wait for: a row may be
 * retracted at any time). Rows are never late here.
 */
import type { KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { accumulators, type Change } from "./aggregate.ts";
import type { Row } from "./expr.ts";
import type { AggCall, OverFrame } from "./logical.ts";
import { type RowOrder, rankOrder } from "./rank.ts";

type RowsState = { rows: ReturnType<typeof valueState<Row[]>> };

/** The first index of `sorted` whose row is not before `test` says so (binary search). */
function firstWhere(sorted: readonly Row[], test: (r: Row) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (test(sorted[mid] as Row)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Positions of `rows` and their frames, for one column of time and one frame. */
function framing(time: number, frame: OverFrame) {
  const t = (r: Row) => r[time] as number;
  const ms = frame.unit === "RANGE" ? frame.precedingMs : 0;
  const n = frame.unit === "ROWS" ? frame.preceding : 0;
  return {
    /** `[from, to)`: the rows of row `i`'s frame. */
    frame(rows: readonly Row[], i: number): [number, number] {
      if (frame.unit === "ROWS") return [n === "unbounded" ? 0 : Math.max(0, i - n), i + 1];
      const ti = t(rows[i] as Row);
      const from = ms === "unbounded" ? 0 : firstWhere(rows, (r) => t(r) >= ti - ms);
      return [from, firstWhere(rows, (r) => t(r) > ti)];
    },
    /** `[from, to)`: the rows whose frame may hold a row of time `at` at position `p` (whether or not `rows` holds it). */
    affected(rows: readonly Row[], p: number, at: number, holds: boolean): [number, number] {
      if (frame.unit === "ROWS")
        return [p, n === "unbounded" ? rows.length : Math.min(rows.length, p + n + (holds ? 1 : 0))];
      const from = firstWhere(rows, (r) => t(r) >= at);
      return [from, ms === "unbounded" ? rows.length : firstWhere(rows, (r) => t(r) > at + ms)];
    },
  };
}

/** The keyed process function of an OVER aggregate over a changelog, ordered by column `time`. */
export function retractingOverAggregate(
  time: number,
  frame: OverFrame,
  aggs: readonly AggCall[],
): KeyedProcessFunction<Change, Key, RowsState, Change> {
  const accs = accumulators(0, aggs, true);
  const order: RowOrder = rankOrder([{ column: time, desc: false }]);
  const f = framing(time, frame);
  const outputs = (rows: readonly Row[], [from, to]: [number, number]): Row[] => {
    const out: Row[] = [];
    for (let i = from; i < to; i++) {
      const [a, b] = f.frame(rows, i);
      let acc = accs.empty();
      for (let j = a; j < b; j++) acc = accs.add(acc, rows[j] as Row, 1);
      out.push([...(rows[i] as Row), ...accs.output([], acc)]);
    }
    return out;
  };
  return {
    state: { rows: valueState<Row[]>() },
    processElement(change, ctx) {
      const before = ctx.state.rows.value() ?? [];
      const row = change.row;
      const adds = change.kind === "+I" || change.kind === "+U";
      let p: number;
      let after: Row[];
      if (adds) {
        p = firstWhere(before, (r) => order(r, row) > 0);
        after = [...before.slice(0, p), row, ...before.slice(p)];
      } else {
        const k = JSON.stringify(row);
        p = before.findIndex((r) => JSON.stringify(r) === k);
        if (p < 0) return;
        after = [...before.slice(0, p), ...before.slice(p + 1)];
      }
      if (after.length === 0) ctx.state.rows.clear();
      else ctx.state.rows.update(after);
      const at = row[time] as number;
      const old = outputs(before, f.affected(before, p, at, !adds));
      const now = outputs(after, f.affected(after, p, at, adds));
      for (let i = 0; i < Math.max(old.length, now.length); i++) {
        const o = old[i];
        const n = now[i];
        if (o && n && JSON.stringify(o) === JSON.stringify(n)) continue;
        if (o && n) {
          ctx.emit({ kind: "-U", row: o });
          ctx.emit({ kind: "+U", row: n });
        } else if (o) ctx.emit({ kind: "-D", row: o });
        else if (n) ctx.emit({ kind: "+I", row: n });
      }
    },
  };
}
