/** Reading a committed changelog back as a table. */

/** The kind of a change, as Flink's RowKind. */
export type RowKind = "+I" | "-U" | "+U" | "-D";

/** A committed record of an updating query: its row kind and its row. */
export interface ChangeRecord {
  readonly kind: RowKind;
  readonly row: Record<string, unknown>;
}

/**
 * The table a changelog ends in: +I and +U add their row, -U and -D take one equal row away.
 * Records that are plain rows (from an insert-only query) are added as they are.
 */
export function foldChangelog(records: readonly unknown[]): Record<string, unknown>[] {
  const rows = new Map<string, { row: Record<string, unknown>; n: number }>();
  for (const r of records) {
    const change = isChange(r) ? r : { kind: "+I" as const, row: r as Record<string, unknown> };
    const k = JSON.stringify(change.row);
    const entry = rows.get(k) ?? { row: change.row, n: 0 };
    entry.n += change.kind === "+I" || change.kind === "+U" ? 1 : -1;
    if (entry.n === 0) rows.delete(k);
    else rows.set(k, entry);
  }
  return [...rows.values()].flatMap((e) => Array.from({ length: Math.max(e.n, 0) }, () => e.row));
}

function isChange(r: unknown): r is ChangeRecord {
  return typeof r === "object" && r !== null && "kind" in r && "row" in r && Object.keys(r).length === 2;
}
