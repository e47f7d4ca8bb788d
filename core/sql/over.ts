/**
 * The OVER aggregate (`AGG(x) OVER (PARTITION BY k ORDER BY rowtime ROWS|RANGE BETWEEN …
 * PRECEDING AND CURRENT ROW)`), as Flink's RowTimeRowsBoundedPrecedingFunction and
 * RowTimeRangeBoundedPrecedingFunction: per partition key, rows wait in keyed state until the
 * watermark passes their time, then each is emitted once, in time order, with the aggregates of
 * its frame. A row whose time the watermark already passed is late, and dropped (as in Flink).
 * Rows of equal time are taken in the order of their whole row, so the result does not depend
 * on arrival order (see rank.ts).
 */
import type { DataStream } from "../api/datastream.ts";
import type { KeyedProcessFunction } from "../api/functions.ts";
import { mapState, valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { accumulators, type Change } from "./aggregate.ts";
import type { Row } from "./expr.ts";
import type { AggCall, OverFrame, Rel } from "./logical.ts";
import { retractingOverAggregate } from "./over-retract.ts";
import { rankOrder } from "./rank.ts";

type Acc = ReturnType<ReturnType<typeof accumulators>["empty"]>;

type OverState = {
  /** Rows not yet emitted, by their time. */
  pending: ReturnType<typeof mapState<Row[]>>;
  /** The aggregates of the rows in the frame so far. */
  acc: ReturnType<typeof valueState<Acc>>;
  /** Emitted rows still in the frame of a later row (bounded frames), oldest first. */
  frame: ReturnType<typeof valueState<Row[]>>;
};

/** The keyed process function of an OVER aggregate ordered by column `time`: outputs each row, then its aggregates. */
export function overAggregate(
  time: number,
  frame: OverFrame,
  aggs: readonly AggCall[],
): KeyedProcessFunction<Row, Key, OverState, Row> {
  const accs = accumulators(0, aggs, true);
  const ties = rankOrder([]);
  const bounded = frame.unit === "ROWS" ? frame.preceding !== "unbounded" : frame.precedingMs !== "unbounded";
  return {
    state: { pending: mapState<Row[]>(), acc: valueState<Acc>(), frame: valueState<Row[]>() },
    processElement(row, ctx) {
      const t = row[time] as number;
      if (t <= ctx.timers.currentWatermark()) return;
      const k = String(t);
      ctx.state.pending.put(k, [...(ctx.state.pending.get(k) ?? []), row]);
      ctx.timers.registerEventTimeTimer(t);
    },
    onTimer(t, ctx) {
      const k = String(t);
      const rows = [...(ctx.state.pending.get(k) ?? [])].sort(ties);
      ctx.state.pending.remove(k);
      let acc = ctx.state.acc.value() ?? accs.empty();
      let held = bounded ? [...(ctx.state.frame.value() ?? [])] : [];
      const out = (row: Row) => ctx.emit([...row, ...accs.output([], acc)]);
      if (frame.unit === "ROWS") {
        const keep = frame.preceding === "unbounded" ? Number.POSITIVE_INFINITY : frame.preceding + 1;
        for (const row of rows) {
          acc = accs.add(acc, row, 1);
          if (bounded) held.push(row);
          while (held.length > keep) acc = accs.add(acc, held.shift() as Row, -1);
          out(row);
        }
      } else {
        // RANGE: the rows of equal time are peers, each in the others' frame.
        for (const row of rows) acc = accs.add(acc, row, 1);
        if (frame.precedingMs !== "unbounded") {
          const from = t - frame.precedingMs;
          const stay = held.filter((r) => (r[time] as number) >= from);
          for (const r of held) if ((r[time] as number) < from) acc = accs.add(acc, r, -1);
          held = [...stay, ...rows];
        }
        for (const row of rows) out(row);
      }
      ctx.state.acc.update(acc);
      if (bounded) ctx.state.frame.update(held);
    },
  };
}

type Over = Extract<Rel, { kind: "over" }>;

/** The aggregate calls of an OVER node (the binder lets no ROW_NUMBER through to here). */
const aggsOf = (rel: Over) => rel.calls.filter((c): c is AggCall => c.fn !== "ROW_NUMBER");

/** The frame of an OVER node: SQL's default is RANGE UNBOUNDED PRECEDING. */
const frameOf = (rel: Over): OverFrame => rel.window.frame ?? { unit: "RANGE", precedingMs: "unbounded" };

/**
 * Builds an OVER aggregate over `input`: rows, emitted as the watermark passes them; or, when
 * `retracting`, changes, emitted at once (over-retract.ts).
 */
export function translateOver(
  rel: Over,
  input: DataStream<unknown>,
  retracting: boolean,
  uid: () => string,
): DataStream<unknown> {
  const keys = rel.window.partitionKeys;
  const keyOf = (r: Row) => (keys.length === 0 ? 0 : (keys.map((k) => r[k]) as Key));
  const time = (rel.window.orderBy[0] as { column: number }).column;
  if (retracting)
    return (input as DataStream<Change>)
      .keyBy((c) => keyOf(c.row))
      .process(retractingOverAggregate(time, frameOf(rel), aggsOf(rel)))
      .uid(uid()) as DataStream<unknown>;
  return (input as DataStream<Row>)
    .keyBy(keyOf)
    .process(overAggregate(time, frameOf(rel), aggsOf(rel)))
    .uid(uid()) as DataStream<unknown>;
}

/** `ROWS BETWEEN 10 PRECEDING AND CURRENT ROW`, as written. */
export function showFrame(frame: OverFrame): string {
  const n = frame.unit === "ROWS" ? frame.preceding : frame.precedingMs;
  const start = n === "unbounded" ? "UNBOUNDED" : frame.unit === "ROWS" ? String(n) : `INTERVAL ${n} ms`;
  return `${frame.unit} BETWEEN ${start} PRECEDING AND CURRENT ROW`;
}

/** The OVER node for EXPLAIN: partition, order, frame and calls; `physical`: its operator, over an input that retracts or not. */
export function describeOver(rel: Over, physical?: { retracting: boolean }): string {
  const names = rel.input.fields.map((f) => f.name);
  const n = names.length;
  const calls = rel.calls
    .map(
      (c, i) =>
        `${c.fn}(${c.fn !== "ROW_NUMBER" && c.arg !== undefined ? names[c.arg] : ""}) AS ${rel.fields[n + i]?.name}`,
    )
    .join(", ");
  const order = rel.window.orderBy.map((k) => `${names[k.column]}${k.desc ? " DESC" : ""}`).join(", ");
  const body = `partitionBy=[${rel.window.partitionKeys.map((k) => names[k]).join(", ")}], orderBy=[${order}], window=[${showFrame(frameOf(rel))}], select=[${calls}]`;
  if (!physical) return `LogicalWindow(${body})`;
  return physical.retracting
    ? `OverAggregate(${body}, input=[retracting]) → keyBy + keyed process`
    : `OverAggregate(${body}) → keyBy + keyed process with event-time timers`;
}
