/**
 * The changelog shared by riffle's CDC connectors: `+I` insert, `-U`/`+U` the
 * before and after images of an update, `-D` delete (Flink's RowKind), and the
 * rule every upsert sink folds an epoch by.
 */

/** The kind of a change, as in Flink's RowKind. */
export type RowKind = "+I" | "-U" | "+U" | "-D";

/** One change of one row. */
export interface ChangeRecord {
  readonly kind: RowKind;
  readonly row: Record<string, unknown>;
}

/** A change folded for an upsert sink: the row to write, or the row whose key to delete. */
export interface FoldedChanges<C extends ChangeRecord> {
  readonly upserts: C[];
  readonly deletes: C[];
}

/**
 * The last change of each key among `values` (in the order of those last changes),
 * split into upserts (`+I`, `+U`) and deletes (`-D`, and a `-U` that no `+U` of its
 * key follows: the update's after image was filtered away, so the row left the
 * table). Applying the result to a table leaves it as applying every change in
 * order would.
 */
export function foldByKey<C extends ChangeRecord>(values: readonly C[], keyOf: (c: C) => string): FoldedChanges<C> {
  const last = new Map<string, C>();
  for (const v of values) {
    const k = keyOf(v);
    last.delete(k); // keep the order of last changes
    last.set(k, v);
  }
  const changes = [...last.values()];
  const isDelete = (c: C) => c.kind === "-D" || c.kind === "-U";
  return { upserts: changes.filter((c) => !isDelete(c)), deletes: changes.filter(isDelete) };
}
