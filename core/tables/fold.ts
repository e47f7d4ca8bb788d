/**
 * The fold rule of dynamic tables, the one place that says what a committed change does
 * to a table. A change is a sink record: a plain row object (an insert) or a
 * `{kind, row}` change record (`+I`, `-U`, `+U`, `-D`), as SQL and `toChangelogStream`
 * produce them.
 *
 * - Upsert table (primary key): `+I` and `+U` set the key's row, `-D` deletes the key,
 *   `-U` does nothing (the `+U` after it sets the new row; as Flink's upsert sinks).
 *   Within one publication, a key's last change is its version.
 * - Append table: every `+I` is a new row, keyed by its place in the log; anything else
 *   is refused at plan time (SQL) and ignored here.
 */

import type { TableSpec, TableVersion, TaggedVersion } from "../ports/table-store.ts";

/** The sink records of one committed segment, and where it is in the log. */
export interface SegmentChanges {
  readonly task: string;
  readonly partition: number;
  readonly generation: number;
  readonly segment: number;
  readonly records: readonly unknown[];
}

type Kind = "+I" | "-U" | "+U" | "-D";

/** The kind and row of a committed change. */
export function changeOf(record: unknown): { kind: Kind; row: Record<string, unknown> } {
  if (typeof record === "object" && record !== null && "kind" in record && "row" in record) {
    const c = record as { kind: Kind; row: Record<string, unknown> };
    return { kind: c.kind, row: c.row };
  }
  return { kind: "+I", row: record as Record<string, unknown> };
}

/** The canonical key of `row` in a table with primary key `pk`: the JSON array of its key values. */
export function keyOf(pk: readonly string[], row: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(pk.map((c) => row[c] ?? null));
}

/** Zero-padded so that keys of places sort in log order. */
function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** The versions `segments` (in log order) make of table `spec`. */
export function foldChanges(spec: TableSpec, segments: readonly SegmentChanges[]): TableVersion[] {
  const pk = spec.primaryKey;
  if (pk === undefined) {
    const out: TableVersion[] = [];
    for (const s of segments) {
      const place = `${s.task}#${pad(s.partition, 4)}#${pad(s.generation, 6)}#${pad(s.segment, 12)}#`;
      s.records.forEach((r, i) => {
        const c = changeOf(r);
        if (c.kind === "+I") out.push({ key: place + pad(i, 6), row: c.row });
      });
    }
    return out;
  }
  const latest = new Map<string, Record<string, unknown> | null>();
  for (const s of segments)
    for (const r of s.records) {
      const c = changeOf(r);
      if (c.kind === "-U") continue;
      const key = keyOf(pk, c.row);
      latest.delete(key); // keeps the map in order of each key's last change
      latest.set(key, c.kind === "-D" ? null : c.row);
    }
  return [...latest].map(([key, row]) => ({ key, row }));
}

/**
 * Retention of one key's versions (oldest first): those no read at a `keep` checkpoint
 * needs. A version stays when it is the newest at some kept checkpoint or newer than
 * every kept one; a deletion that is the newest at the oldest kept checkpoint and at no
 * later one goes too (reading it or nothing answers the same).
 */
export function droppable(versions: readonly TaggedVersion[], keep: readonly number[]): TaggedVersion[] {
  if (keep.length === 0) return [];
  const needed = new Set<TaggedVersion>();
  const newest = Math.max(...keep);
  for (const at of keep) {
    let best: TaggedVersion | undefined;
    for (const v of versions) if (v.checkpoint <= at) best = v;
    if (best) needed.add(best);
  }
  const oldestKept = Math.min(...keep);
  const drop: TaggedVersion[] = [];
  for (const v of versions) {
    if (v.checkpoint > newest) continue;
    if (!needed.has(v)) drop.push(v);
    else if (v.row === null && keep.every((at) => at === oldestKept || newestAt(versions, at) !== v)) drop.push(v);
  }
  return drop;
}

function newestAt(versions: readonly TaggedVersion[], at: number): TaggedVersion | undefined {
  let best: TaggedVersion | undefined;
  for (const v of versions) if (v.checkpoint <= at) best = v;
  return best;
}
