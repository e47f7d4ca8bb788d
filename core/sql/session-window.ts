/**
 * The legacy group window `GROUP BY …, SESSION(time, INTERVAL …)` with `SESSION_START` and
 * `SESSION_END`: per grouping key, event-time sessions as Flink's (a row at t opens
 * [t, t + gap); sessions that touch merge, so a row at most `gap` after a session's last row joins
 * it). A session is emitted once, when the watermark passes its end − 1, as the key, its start,
 * its end (last row + gap) and the aggregates; a row too late for any open session is dropped.
 * Sessions and their accumulators live in keyed state (exactly once like every keyed operator).
 */

import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { type Acc, accumulators } from "./aggregate.ts";
import type { Expr } from "./ast.ts";
import { type BindContext, bindExpr } from "./bind-expr.ts";
import { invalid } from "./errors.ts";
import { type BoundExpr, fold, type Row } from "./expr.ts";
import type { AggCall } from "./logical.ts";
import { mergeAccs } from "./merge-accs.ts";

/** A session group window of a GROUP BY: which item it is, its time column and gap. */
export interface SessionGroup {
  readonly index: number;
  readonly time: BoundExpr;
  readonly gapMs: number;
  /** The arguments as written (positions left out), which SESSION_START/SESSION_END must repeat. */
  readonly args: string;
}

const argsKey = (args: readonly Expr[]) => JSON.stringify(args, (k, v) => (k === "pos" ? undefined : v));

/** The `SESSION(time, gap)` item of a GROUP BY, bound in `ctx`, if there is one. */
export function sessionGroupOf(groupBy: readonly Expr[], ctx: BindContext): SessionGroup | undefined {
  const index = groupBy.findIndex((g) => g.kind === "call" && g.name === "SESSION");
  const g = groupBy[index];
  if (g?.kind !== "call") return undefined;
  if (groupBy.some((o, i) => i !== index && o.kind === "call" && o.name === "SESSION"))
    throw invalid(g.pos, "GROUP BY has more than one SESSION window");
  if (g.args.length !== 2) throw invalid(g.pos, "SESSION takes a time attribute and an INTERVAL gap");
  const time = bindExpr(g.args[0] as Expr, ctx);
  if (time.type.kind !== "TIMESTAMP") throw invalid(g.pos, "the first argument of SESSION must be a TIMESTAMP(3)");
  const gap = fold(bindExpr(g.args[1] as Expr, ctx));
  if (gap.kind !== "literal" || gap.type.kind !== "INTERVAL" || !((gap.value as number) > 0))
    throw invalid(g.pos, "SESSION needs a positive INTERVAL gap");
  return { index, time, gapMs: gap.value as number, args: argsKey(g.args) };
}

/** Which column of a session aggregate's output `SESSION_START`/`SESSION_END(…)` reads (after the keys), if `e` is one. */
export function sessionColumn(e: Expr, session: SessionGroup | undefined): 0 | 1 | undefined {
  if (!session || e.kind !== "call" || (e.name !== "SESSION_START" && e.name !== "SESSION_END")) return undefined;
  if (argsKey(e.args) !== session.args)
    throw invalid(e.pos, `${e.name} must repeat the arguments of the SESSION(…) in GROUP BY`);
  return e.name === "SESSION_START" ? 0 : 1;
}

/** An open session: first and last row time, and the accumulators. */
interface Session {
  readonly start: number;
  readonly last: number;
  readonly acc: Acc;
}

/** A session this bundle made or copied, which it may change in place. */
type OwnSession = { start: number; last: number; acc: Acc };

type SessionState = { sessions: ReturnType<typeof valueState<readonly Session[]>> };

/**
 * The keyed process function of a session aggregate over rows whose first `groupKeys` columns are
 * the key and column `time` the row time; it emits the key, start, end, then the aggregates. It
 * takes an envelope's rows of a key at once (output only comes from timers): the key's sessions
 * are copied once per bundle, not once per row, and a row that lands in one session is folded
 * into the bundle's own copy of it in place.
 *
 * Timers: every open session has a pending event-time timer at or before its end − 1. A new
 * session registers one at its end − 1; a row that extends a session or merges sessions keeps
 * theirs (each at or before the new end), and a timer that finds a session still open re-arms it
 * at its end − 1. So a row costs a timer only when it opens a session (as the TypeScript q11).
 */
export function sessionAggregate(
  groupKeys: number,
  aggs: readonly AggCall[],
  time: number,
  gapMs: number,
): KeyedProcessFunction<Row, Key, SessionState, Row> {
  const accs = accumulators(groupKeys, aggs, false);
  const add = (rows: readonly Row[], ctx: KeyedContext<Key, SessionState, Row>) => {
    const wm = ctx.timers.currentWatermark();
    let open: Session[] = [...(ctx.state.sessions.value() ?? [])];
    /** The sessions of `open` that this call made or copied. */
    const own: Session[] = [];
    let changed = false;
    for (const row of rows) {
      const t = row[time] as number;
      const touching = open.filter((s) => s.start <= t + gapMs && s.last + gapMs >= t);
      if (touching.length === 0) {
        if (t + gapMs - 1 <= wm) continue; // too late for any session
        const fresh: OwnSession = { start: t, last: t, acc: accs.empty() };
        accs.fold(fresh.acc, row, 1);
        ctx.timers.registerEventTimeTimer(t + gapMs - 1);
        open.push(fresh);
        own.push(fresh);
      } else if (touching.length === 1) {
        const s = touching[0] as Session;
        let mine = s as OwnSession;
        if (!own.includes(s)) {
          mine = { start: s.start, last: s.last, acc: accs.own(s.acc) };
          open[open.indexOf(s)] = mine;
          own.push(mine);
        }
        if (t < mine.start) mine.start = t;
        if (t > mine.last) mine.last = t;
        accs.fold(mine.acc, row, 1);
      } else {
        let merged: OwnSession = { start: t, last: t, acc: accs.add(accs.empty(), row, 1) };
        for (const s of touching)
          merged = {
            start: Math.min(s.start, merged.start),
            last: Math.max(s.last, merged.last),
            acc: mergeAccs(aggs, s.acc, merged.acc),
          };
        open = open.filter((s) => !touching.includes(s));
        open.push(merged);
        own.push(merged);
      }
      changed = true;
    }
    if (changed) ctx.state.sessions.update(open);
  };
  return {
    state: { sessions: valueState<readonly Session[]>() },
    processElement: (row, ctx) => add([row], ctx),
    processBundle: add,
    onTimer(at, ctx) {
      const open = ctx.state.sessions.value() ?? [];
      const rest = open.filter((s) => s.last + gapMs - 1 > at);
      for (const s of rest) ctx.timers.registerEventTimeTimer(s.last + gapMs - 1);
      for (const s of open) {
        if (s.last + gapMs - 1 > at) continue;
        const out = accs.output(groupKeys === 0 ? [] : (ctx.key as Row), s.acc);
        ctx.emit([...out.slice(0, groupKeys), s.start, s.last + gapMs, ...out.slice(groupKeys)]);
      }
      if (rest.length === 0) ctx.state.sessions.clear();
      else if (rest.length < open.length) ctx.state.sessions.update(rest);
    },
  };
}
