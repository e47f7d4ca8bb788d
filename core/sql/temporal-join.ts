/**
 * The event-time temporal join `s [LEFT] JOIN v FOR SYSTEM_TIME AS OF s.rowtime AS x ON s.k = x.pk`,
 * as Flink's TemporalRowTimeJoinOperator: `v` is a versioned table (a table with a PRIMARY KEY
 * and a watermark, whose rows are versions of their key from their rowtime on, or a view that
 * keeps one row per key, such as a deduplication keeping the last row); each row of `s` joins the
 * version of its key that was valid at the row's time (the latest at or before it).
 *
 * Per join key, in keyed state (exactly once like every keyed riffle operator): the stream's rows
 * by time until the watermark (the lower of the two inputs') passes them, and the versions by
 * time; when the watermark passes a row, the row is joined with the version valid then (a LEFT
 * join emits it padded with NULLs when there is none) and is emitted once, insert-only. Versions
 * older than the one valid at the watermark are dropped.
 */
import type { KeyedContext, KeyedCoProcessFunction, TimerContext } from "../api/functions.ts";
import { mapState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import { invalid, type Pos, unsupported } from "./errors.ts";
import type { BoundExpr, Compiled, Row } from "./expr.ts";
import { hasNull } from "./join.ts";
import { changelogMode, isUpdating, type Rel, type TableDef } from "./logical.ts";

/** A version of a key from `time` on: its row, or null after a deletion. */
type Version = readonly [time: number, row: Row | null];
type TemporalState = {
  rows: ReturnType<typeof mapState<readonly Row[]>>;
  versions: ReturnType<typeof mapState<Version>>;
};

/**
 * The rowtime column of `rel` (the column a watermark below it is on, through projections), if
 * it has one.
 */
export function rowtimeOf(rel: Rel): number | undefined {
  switch (rel.kind) {
    case "watermark":
      return rel.time;
    case "calc": {
      const below = rowtimeOf(rel.input);
      const i = rel.projects.findIndex((p) => p.kind === "input" && p.index === below);
      return below === undefined || i < 0 ? undefined : i;
    }
    case "rank":
    case "over":
      return rowtimeOf(rel.input);
    default:
      return undefined;
  }
}

/**
 * Checks an event-time temporal join of `left` with the versioned `right` (`table` when it is a
 * table, not a view) on AS OF time `asOf`; returns the two rowtime columns.
 */
export function checkTemporalJoin(
  left: Rel,
  right: Rel,
  asOf: BoundExpr,
  table: TableDef | undefined,
  pos: Pos,
): { readonly leftTime: number; readonly rightTime: number } {
  if (isUpdating(changelogMode(left))) throw unsupported(pos, "a temporal join of an updating table");
  const leftTime = rowtimeOf(left);
  if (asOf.kind !== "input" || asOf.index !== leftTime)
    throw invalid(pos, "FOR SYSTEM_TIME AS OF must name the rowtime column (the WATERMARK column) of the left side");
  const rightTime = rowtimeOf(right);
  if (rightTime === undefined)
    throw invalid(pos, "the versioned table of a temporal join needs a rowtime column (a WATERMARK)");
  if (table && !table.primaryKey?.length)
    throw invalid(pos, `the versioned table '${table.name}' of a temporal join needs a PRIMARY KEY`);
  return { leftTime, rightTime };
}

/** Checks that the join keys of a temporal join hold the versioned table's primary key. */
export function checkVersionKeys(
  rightKeys: readonly BoundExpr[],
  right: Rel,
  table: TableDef | undefined,
  pos: Pos,
): void {
  const keys = new Set(rightKeys.flatMap((k) => (k.kind === "input" ? [right.fields[k.index]?.name] : [])));
  const missing = table?.primaryKey?.filter((k) => !keys.has(k)) ?? [];
  if (missing.length > 0)
    throw invalid(
      pos,
      `a temporal join must equate the primary key of '${table?.name}' (missing: ${missing.join(", ")})`,
    );
}

/** The keyed co-process function of a temporal join; it emits +I only. */
export function temporalJoin(
  residual: Compiled | undefined,
  times: { readonly leftTime: number; readonly rightTime: number },
  leftOuter: boolean,
  rightWidth: number,
): KeyedCoProcessFunction<Change, Change, Key, TemporalState, Change> {
  const nulls: Row = new Array(rightWidth).fill(null);
  const fire = (at: number, ctx: TimerContext<Key, TemporalState, Change>) => {
    const versions = ctx.state.versions
      .entries()
      .map(([, v]) => v)
      .sort((a, b) => a[0] - b[0]);
    const due = ctx.state.rows
      .entries()
      .filter(([k]) => Number(k) <= at)
      .sort(([a], [b]) => Number(a) - Number(b));
    for (const [k, rows] of due) {
      const t = Number(k);
      const version = versions.findLast((v) => v[0] <= t)?.[1] ?? null;
      for (const row of rows) {
        const joined = version && !hasNull(ctx.key) ? [...row, ...version] : undefined;
        if (joined && (!residual || residual(joined) === true)) ctx.emit({ kind: "+I", row: joined });
        else if (leftOuter) ctx.emit({ kind: "+I", row: [...row, ...nulls] });
      }
      ctx.state.rows.remove(k);
    }
    const current = versions.findLastIndex((v) => v[0] <= at);
    for (let i = 0; i < current; i++) ctx.state.versions.remove(String(versions[i]?.[0]));
    const last = versions[current];
    if (last && last[1] === null) ctx.state.versions.remove(String(last[0]));
  };
  return {
    state: { rows: mapState<readonly Row[]>(), versions: mapState<Version>() },
    processElement1(change, ctx: KeyedContext<Key, TemporalState, Change>) {
      const t = change.row[times.leftTime] as number;
      const k = String(t);
      ctx.state.rows.put(k, [...(ctx.state.rows.get(k) ?? []), change.row]);
      ctx.timers.registerEventTimeTimer(t);
    },
    processElement2(change, ctx) {
      if (change.kind === "-U") return; // the +U that follows is the new version
      const t = change.row[times.rightTime] as number;
      ctx.state.versions.put(String(t), [t, change.kind === "-D" ? null : change.row]);
    },
    onTimer: fire,
  };
}
