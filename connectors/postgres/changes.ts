/**
 * Row changes as a changelog: `+I` insert, `-U`/`+U` the before and after images of
 * an update, `-D` delete. An update of the primary key is a `-D` of the old key and
 * a `+I` of the new one. Before images are whole rows under `REPLICA IDENTITY FULL`;
 * with the default identity an update has no `-U` and a delete's row holds only the
 * key columns.
 */
import type { ChangeRecord } from "../shared/changelog.ts";
import type { TableInfo } from "./setup.ts";
import { keyOf, keyString } from "./snapshot.ts";
import type { RawChange } from "./stream.ts";

export type { ChangeRecord, RowKind } from "../shared/changelog.ts";

const plain = (row: Record<string, unknown>): Record<string, unknown> => ({ ...row });

/** The changelog records of one decoded change. */
export function changesOf(change: RawChange, table: TableInfo): ChangeRecord[] {
  if (change.tag === "insert") return [{ kind: "+I", row: plain(change.new) }];
  if (change.tag === "delete") return [{ kind: "-D", row: plain(change.old ?? change.key ?? {}) }];
  const after = plain(change.new);
  const before = change.old ?? change.key;
  if (!before) return [{ kind: "+U", row: after }];
  if (keyString(keyOf(table, before)) !== keyString(keyOf(table, after)))
    return [
      { kind: "-D", row: plain(before) },
      { kind: "+I", row: after },
    ];
  return change.old
    ? [
        { kind: "-U", row: plain(change.old) },
        { kind: "+U", row: after },
      ]
    : [{ kind: "+U", row: after }];
}

/** The primary keys (as {@link keyString}) a change touches: its old and its new key. */
export function touchedKeys(change: RawChange, table: TableInfo): string[] {
  const keys: string[] = [];
  const before = change.tag === "insert" ? undefined : (change.old ?? change.key);
  if (before) keys.push(keyString(keyOf(table, before)));
  if (change.tag !== "delete") keys.push(keyString(keyOf(table, change.new)));
  return keys;
}
