/**
 * The logical plan: relational operators over typed rows, and the changelog each produces
 * (Flink's row kinds +I, -U, +U, -D).
 */
import type { Expr } from "./ast.ts";
import type { RowKind } from "./changelog.ts";
import { registeredConnector } from "./connector-registry.ts";
import type { Pos } from "./errors.ts";
import type { BoundExpr } from "./expr.ts";
import type { SqlType } from "./types.ts";

/** A named, typed column of a relation. */
export interface Field {
  readonly name: string;
  readonly type: SqlType;
}

/** A table of the catalog, from `CREATE TABLE`. */
export interface TableDef {
  readonly name: string;
  /** Physical columns: what the connector reads or writes. */
  readonly physical: readonly Field[];
  /** Computed columns, in declaration order, after the physical ones. */
  readonly computed: readonly { readonly name: string; readonly expr: Expr; readonly pos: Pos }[];
  readonly watermark?: { readonly column: string; readonly expr: Expr; readonly pos: Pos };
  readonly primaryKey?: readonly string[];
  /** `PARTITIONED BY` columns (the filesystem connector's directories). */
  readonly partitionedBy?: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  readonly pos: Pos;
}

/** An aggregate call of an {@link Rel aggregate}: its argument and filter are input columns. */
export interface AggCall {
  readonly fn: "COUNT" | "SUM" | "MIN" | "MAX" | "AVG";
  /** Input column; undefined for `COUNT(*)`. */
  readonly arg?: number;
  readonly distinct: boolean;
  /** Input column holding the `FILTER (WHERE …)` condition. */
  readonly filter?: number;
  readonly type: SqlType;
}

/** A relational operator. */
export type Rel =
  | { readonly kind: "scan"; readonly table: TableDef; readonly fields: readonly Field[] }
  | {
      readonly kind: "watermark";
      readonly input: Rel;
      /** The rowtime column. */
      readonly time: number;
      /** Bounded out-of-orderness, ms. */
      readonly delayMs: number;
      readonly fields: readonly Field[];
    }
  | {
      readonly kind: "calc";
      readonly input: Rel;
      readonly projects: readonly BoundExpr[];
      readonly filter?: BoundExpr;
      readonly fields: readonly Field[];
      /**
       * Made by the optimizer where the plan had no calc (rank-prune.ts): its operators take uids
       * outside the plan's sequence, so that every operator after it keeps its uid (and state).
       */
      readonly synthetic?: true;
    }
  | {
      readonly kind: "aggregate";
      readonly input: Rel;
      /** The first `groupKeys` input columns are the grouping key. */
      readonly groupKeys: number;
      readonly aggs: readonly AggCall[];
      /**
       * Set by the optimizer when the key holds a window TVF's `window_start` and `window_end`
       * (these key positions): a window aggregate, which emits each window once, when the
       * watermark passes its end, and retracts nothing.
       */
      readonly window?: { readonly start: number; readonly end: number };
      /**
       * A legacy `SESSION(time, gap)` group window: input column `time` is the row time; the
       * output holds the key, the session's start and end, then the aggregates; insert-only.
       */
      readonly session?: { readonly time: number; readonly gapMs: number };
      readonly fields: readonly Field[];
    }
  | {
      readonly kind: "join";
      readonly left: Rel;
      readonly right: Rel;
      /** Equi-join keys, set by the optimizer: `leftKeys[i]` (over a left row) equals `rightKeys[i]` (over a right row). */
      readonly leftKeys: readonly BoundExpr[];
      readonly rightKeys: readonly BoundExpr[];
      /** The rest of the condition, over the left columns then the right ones. */
      readonly condition?: BoundExpr;
      /** The left columns, then the right ones. */
      readonly fields: readonly Field[];
      readonly pos: Pos;
      /** An outer join (absent: inner): which side keeps its rows that join nothing, padded with NULLs. */
      readonly outer?: "LEFT" | "RIGHT" | "FULL";
      /**
       * An event-time temporal join (`FOR SYSTEM_TIME AS OF`, temporal-join.ts): the right side is
       * versioned; the rowtime columns of each side; `table` is the versioned table (not a view).
       */
      readonly temporal?: { readonly leftTime: number; readonly rightTime: number; readonly table?: TableDef };
      /** Set by the optimizer when a rank above had its columns pruned into this join (rank-prune.ts): it stores narrower rows. */
      readonly narrowed?: true;
    }
  | {
      /** Window functions `f(…) OVER (PARTITION BY … ORDER BY … [frame])`: the input's columns, then one per call. */
      readonly kind: "over";
      readonly input: Rel;
      readonly window: OverWindow;
      readonly calls: readonly OverCall[];
      readonly fields: readonly Field[];
      readonly pos: Pos;
    }
  | {
      /**
       * TopN (`ROW_NUMBER() OVER (…)` filtered by `rn <= N`), made by the optimizer from an
       * `over`: per partition, the first `limit` rows in the window's order; with `rowNumber`,
       * the input's columns then the row number, otherwise just the input's columns.
       */
      readonly kind: "rank";
      readonly input: Rel;
      readonly partitionKeys: readonly number[];
      readonly orderBy: readonly SortKey[];
      readonly limit: number;
      readonly rowNumber: boolean;
      /**
       * Set by the optimizer when the input is insert-only and a partition key is a window's
       * `window_end` (this input column): a window TopN, which emits each window's top N once,
       * insert-only, when the watermark passes its end.
       */
      readonly windowEnd?: number;
      /** Set by the optimizer when it dropped input columns that nothing reads (rank-prune.ts): the rows it stores are narrower. */
      readonly narrowed?: true;
      readonly fields: readonly Field[];
    }
  | {
      readonly kind: "lookup-join";
      /** The stream side. */
      readonly input: Rel;
      /** The lookup table (read whole; see lookup-join.ts). */
      readonly table: TableDef;
      readonly type: "INNER" | "LEFT";
      /** `leftKeys[i]` (over an input row) equals the table's column `rightKeys[i]`. */
      readonly leftKeys: readonly BoundExpr[];
      readonly rightKeys: readonly number[];
      /** The rest of the ON condition, over the input's columns then the table's. */
      readonly condition?: BoundExpr;
      readonly fields: readonly Field[];
    }
  | {
      readonly kind: "window-tvf";
      readonly input: Rel;
      readonly window: WindowSpec;
      /** The time attribute column (`DESCRIPTOR(…)`). */
      readonly time: number;
      /** The input's columns, then `window_start`, `window_end`, `window_time`. */
      readonly fields: readonly Field[];
    };

/** A window table function: TUMBLE(size), HOP(slide, size) or CUMULATE(step, size); ms. */
export interface WindowSpec {
  readonly fn: "TUMBLE" | "HOP" | "CUMULATE";
  readonly sizeMs: number;
  /** HOP's slide, CUMULATE's step; equal to the size for TUMBLE. */
  readonly stepMs: number;
  readonly offsetMs: number;
  /** Over a `PROCTIME()` attribute: the window aggregate fires on processing-time timers. */
  readonly proctime?: boolean;
}

/** An `ORDER BY` key of a window: an input column, ascending or descending. */
export interface SortKey {
  readonly column: number;
  readonly desc: boolean;
}

/** The frame of an OVER aggregate: the rows before the current one it covers (always up to the current row). */
export type OverFrame =
  | { readonly unit: "ROWS"; readonly preceding: number | "unbounded" }
  | { readonly unit: "RANGE"; readonly precedingMs: number | "unbounded" };

/** `OVER (PARTITION BY … ORDER BY … frame)`, over input columns. */
export interface OverWindow {
  readonly partitionKeys: readonly number[];
  readonly orderBy: readonly SortKey[];
  readonly frame?: OverFrame;
}

/** One window function call: ROW_NUMBER(), or an aggregate over the frame. */
export type OverCall = { readonly fn: "ROW_NUMBER"; readonly type: SqlType } | AggCall;

/** A Flink row kind. */
export type { RowKind };

/** The row kinds a changelog may hold: insert-only, or updating (with retractions). */
export type ChangelogMode = readonly RowKind[];

export const INSERT_ONLY: ChangelogMode = ["+I"];
export const RETRACT: ChangelogMode = ["+I", "-U", "+U", "-D"];
/** Deduplication keeping one row per key: it never deletes a key's row, only replaces it. */
export const UPSERT_NO_DELETE: ChangelogMode = ["+I", "-U", "+U"];

/** The changelog `rel` produces, inferred bottom-up: aggregates retract; the rest pass their input's mode on. */
export function changelogMode(rel: Rel): ChangelogMode {
  switch (rel.kind) {
    case "scan":
      return registeredConnector(rel.table.options.connector)?.source ? RETRACT : INSERT_ONLY;
    case "aggregate":
      return rel.window || rel.session ? INSERT_ONLY : RETRACT;
    case "rank":
      if (rel.windowEnd !== undefined) return INSERT_ONLY;
      return isDeduplicate(rel) && !isUpdating(changelogMode(rel.input)) ? UPSERT_NO_DELETE : RETRACT;
    case "join":
      // An inner join of two insert-only inputs only inserts; otherwise its output retracts.
      if (rel.temporal) return INSERT_ONLY;
      if (rel.outer) return RETRACT;
      return isUpdating(changelogMode(rel.left)) || isUpdating(changelogMode(rel.right)) ? RETRACT : INSERT_ONLY;
    default:
      return changelogMode(rel.input);
  }
}

/** Why `rel` updates, for messages: what its first updating operator does (from the sources up). */
export function whyUpdating(rel: Rel): string {
  const inputs = rel.kind === "join" ? [rel.left, rel.right] : "input" in rel ? [rel.input] : [];
  const below = inputs.find((r) => isUpdating(changelogMode(r)));
  if (below) return whyUpdating(below);
  if (rel.kind === "join" && rel.outer)
    return `a ${rel.outer} OUTER join retracts a row padded with NULLs when the row finds its first match`;
  if (rel.kind === "rank")
    return isDeduplicate(rel)
      ? "a deduplication (ROW_NUMBER … rn = 1) replaces a key's row when a later one comes"
      : "a TopN (ROW_NUMBER … rn <= N) retracts rows that leave the top N";
  return "an aggregate retracts its earlier results";
}

/** True when the mode has updates or deletes. */
export const isUpdating = (mode: ChangelogMode): boolean => mode.some((k) => k !== "+I");

/**
 * A rank that is a deduplication (Flink's Deduplicate): the first row per key by one TIMESTAMP
 * column, ascending (keep first) or descending (keep last), without the row number.
 */
export function isDeduplicate(rel: Extract<Rel, { kind: "rank" }>): boolean {
  const key = rel.orderBy[0];
  return (
    rel.limit === 1 &&
    !rel.rowNumber &&
    rel.windowEnd === undefined &&
    rel.orderBy.length === 1 &&
    key !== undefined &&
    rel.input.fields[key.column]?.type.kind === "TIMESTAMP"
  );
}
