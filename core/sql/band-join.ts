/**
 * The bucketed interval join: an inner join of insert-only inputs whose condition holds a band
 * `copied.u + lo <= stored.t <= copied.u + hi` (join-band.ts). Rows are keyed not by the join
 * key but by a bucket of event time and a group of join keys: {@link slotOf}. A stored-side row
 * goes to the one bucket its `t` falls in; a copied-side row, wrapped as a {@link Copy}, goes to
 * every bucket its band overlaps, so a joining pair meets in exactly one bucket (the stored
 * row's), where the later of the two finds the earlier.
 *
 * Per slot and side, one map state: join key (encoded) → the rows with that key. One event-time
 * timer per slot drops the whole slot once the watermark passes the bucket ({@link
 * bucketExpiry}); a row that comes when its bucket is past already joins what is stored and is
 * not kept. So a join whose keys are nearly unique keeps a timer and a state entry per slot
 * where the per-key interval join (append-join.ts) keeps them per row.
 */
import type { KeyedContext, KeyedCoProcessFunction, TimerContext } from "../api/functions.ts";
import { mapState } from "../api/state.ts";
import { encodeKey, type Key, murmur3 } from "../keys.ts";
import type { Row } from "./expr.ts";
import { hasNull } from "./join.ts";
import { type Band, bucketExpiry, bucketsOf } from "./join-band.ts";
import type { JoinCode } from "./join-code.ts";

/** Join keys fall into this many groups per bucket (spread over the tasks like any key). */
export const BAND_GROUPS = 32;

/** A copied-side row bound for one bucket. */
export interface Copy {
  readonly bucket: number;
  readonly row: Row;
}

type SideState = ReturnType<typeof mapState<Row[]>>;
type BandState = { stored: SideState; copied: SideState };
type Ctx<T> = KeyedContext<Key, BandState, T>;

/** The slot (the operator's key) of a bucket and an encoded join key. */
export function slotOf(bucket: number, encodedKey: string): number {
  return bucket * BAND_GROUPS + (murmur3(encodedKey) % BAND_GROUPS);
}

/** A side's encoded join key over its row; undefined when the key holds a NULL (joining nothing). */
export function encodedJoinKey(key: (row: Row) => Key): (row: Row) => string | undefined {
  return (row) => {
    const k = key(row);
    return hasNull(k) ? undefined : encodeKey(k);
  };
}

/** The keys of the two inputs: a stored row's slot, and a copy's. */
export function bandKeys(
  band: Band,
  storedKey: (row: Row) => string | undefined,
  copiedKey: (row: Row) => string | undefined,
) {
  return {
    stored: (row: Row): number => {
      const k = storedKey(row);
      const t = row[band.time];
      return k === undefined || typeof t !== "number" ? 0 : slotOf(Math.floor(t / band.bucketMs), k);
    },
    copied: (c: Copy): number => {
      const k = copiedKey(c.row);
      return k === undefined ? 0 : slotOf(c.bucket, k);
    },
  };
}

/** A copied-side row, once per bucket its band overlaps (none when its time is NULL). */
export function copiesOf(band: Band): (row: Row) => Copy[] {
  return (row) => {
    const u = row[band.copiedTime];
    return typeof u === "number" ? bucketsOf(band, u).map((bucket) => ({ bucket, row })) : [];
  };
}

/**
 * The keyed co-process function of the bucketed interval join; `code`'s residual is the whole
 * condition beyond the equi-keys, over the pair of rows (left's, right's).
 */
export function bandJoin<T = Row>(
  band: Band,
  code: JoinCode<T>,
  storedKey: (row: Row) => string | undefined,
  copiedKey: (row: Row) => string | undefined,
): KeyedCoProcessFunction<unknown, unknown, Key, BandState, T> {
  const storedLeft = band.stored === "left";
  const { residual, concat } = code;
  const emitJoined = (stored: Row, copied: Row, ctx: Ctx<T>) => {
    const l = storedLeft ? stored : copied;
    const r = storedLeft ? copied : stored;
    if (!residual || residual(l, r) === true) ctx.emit(concat(l, r));
  };
  /**
   * Joins `rows` (a fresh array, of one side and join key in this slot) with the other side's rows
   * of the key, then keeps them unless the bucket is past.
   */
  const arrive = (mine: "stored" | "copied", rows: Row[], key: string, ctx: Ctx<T>) => {
    const theirs = ctx.state[mine === "stored" ? "copied" : "stored"].get(key);
    if (theirs !== undefined)
      for (const row of rows)
        for (const other of theirs) mine === "stored" ? emitJoined(row, other, ctx) : emitJoined(other, row, ctx);
    const at = bucketExpiry(band, Math.floor((ctx.key as number) / BAND_GROUPS));
    if (at <= ctx.timers.currentWatermark()) return;
    ctx.timers.registerEventTimeTimer(at);
    const store = ctx.state[mine];
    const mineRows = store.get(key);
    store.put(key, mineRows === undefined ? rows : [...mineRows, ...rows]);
  };
  /** A side's rows and their join keys (undefined for a row that joins nothing). */
  const sides = {
    stored: {
      row: (v: unknown) => v as Row,
      key: (row: Row) => (typeof row[band.time] === "number" ? storedKey(row) : undefined),
    },
    copied: { row: (v: unknown) => (v as Copy).row, key: copiedKey },
  };
  /** A slot's values of one side (an envelope's, or one): each join key's rows at once, keys in order of first arrival. */
  const side = (mine: "stored" | "copied") => {
    const { row: rowOf, key: keyOf } = sides[mine];
    return (values: readonly unknown[], ctx: Ctx<T>) => {
      if (values.length === 1) {
        const row = rowOf(values[0]);
        const key = keyOf(row);
        if (key !== undefined) arrive(mine, [row], key, ctx);
        return;
      }
      const byKey = new Map<string, Row[]>();
      for (const value of values) {
        const row = rowOf(value);
        const key = keyOf(row);
        if (key === undefined) continue;
        const rows = byKey.get(key);
        if (rows) rows.push(row);
        else byKey.set(key, [row]);
      }
      for (const [key, rows] of byKey) arrive(mine, rows, key, ctx);
    };
  };
  const [first, second] = storedLeft ? [side("stored"), side("copied")] : [side("copied"), side("stored")];
  return {
    state: { stored: mapState<Row[]>({ hashed: true }), copied: mapState<Row[]>({ hashed: true }) },
    processElement1: (value, ctx) => first([value], ctx),
    processElement2: (value, ctx) => second([value], ctx),
    // An envelope's rows of a slot at once: a join key's rows appended to its list in one copy.
    processBundle1: first,
    processBundle2: second,
    onTimer(_at: number, ctx: TimerContext<Key, BandState, T>) {
      ctx.state.stored.clear();
      ctx.state.copied.clear();
    },
  };
}
