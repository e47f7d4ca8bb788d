/**
 * Sensitive columns of tables, found by the classifier (`sensitive.ts`) over a
 * sample of their rows. For the SQL rewrite (`rewrite.ts`), which masks what is found
 * for principals without `unmask`, and for `riffle describe`.
 */
import { connectorOf } from "../sql/connectors.ts";
import type { Row } from "../sql/expr.ts";
import { readFilesystemTable } from "../sql/filesystem.ts";
import type { Field, TableDef } from "../sql/logical.ts";
import { type ColumnClass, classifyColumn, type SensitiveKind } from "./sensitive.ts";

/** How many rows a classification samples (the first ones). */
export const CLASSIFY_SAMPLE = 1000;

/** Each column's classification over the first {@link CLASSIFY_SAMPLE} rows; unclassified columns are left out. */
export function classifyRows(fields: readonly Field[], rows: readonly Row[]): Map<string, ColumnClass> {
  const sample = rows.slice(0, CLASSIFY_SAMPLE);
  const found = new Map<string, ColumnClass>();
  fields.forEach((f, i) => {
    const c = classifyColumn(sample.map((r) => r[i]));
    if (c) found.set(f.name, c);
  });
  return found;
}

/**
 * A classifier of bounded tables for {@link GovernanceContext.sensitive}: a
 * `filesystem` table is sampled from its files (once per table name); the sensitive
 * columns of other tables come from `declared` (table name to column kinds), e.g.
 * an ingest source's classification.
 */
export function boundedClassifier(
  declared: Readonly<Record<string, Readonly<Record<string, SensitiveKind>>>> = {},
): (table: TableDef) => ReadonlyMap<string, SensitiveKind> {
  const cache = new Map<string, ReadonlyMap<string, SensitiveKind>>();
  return (table) => {
    const known = cache.get(table.name);
    if (known) return known;
    const found = new Map<string, SensitiveKind>(Object.entries(declared[table.name] ?? {}));
    if (connectorOf(table) === "filesystem")
      for (const [column, c] of classifyRows(table.physical, readFilesystemTable(table))) found.set(column, c.kind);
    cache.set(table.name, found);
    return found;
  };
}
