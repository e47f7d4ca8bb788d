/**
 * Reads of dynamic tables as a principal may see them: every path (snapshot, point
 * lookup, changes, query) applies the principal's row policy and masks, and masks the
 * columns the classifier finds sensitive unless it holds `unmask`, through the one
 * implementation in `core/governance/` (`rowGovernor` over one table's rows,
 * `applyGovernance` over a query's scans). The report says what was applied, for the
 * audit.
 *
 * Sensitive columns of a dynamic table are found by classifying the first rows of its
 * snapshot at the checkpoint read, the same sample whichever path reads, so a lookup
 * masks what the snapshot masks (the answer is kept per store, table and checkpoint).
 */

import { classifyRows } from "../governance/classify.ts";
import { hasGrant, type Principal } from "../governance/principal.ts";
import type { GovernanceContext, GovernanceReport } from "../governance/rewrite.ts";
import { type RowGovernor, rowGovernor } from "../governance/rows.ts";
import type { SensitiveKind } from "../governance/sensitive.ts";
import type { SealedCheckpoint, TableSpec } from "../ports/table-store.ts";
import type { Row } from "../sql/expr.ts";
import type { TableDef } from "../sql/logical.ts";
import { DATASTREAM_CONNECTOR, SqlSession } from "../sql/session.ts";
import { keyOf } from "./fold.ts";
import { snapshotRows, type TableChange, type TableReadContext } from "./read.ts";
import { tableColumns } from "./specs.ts";

/** A read's principal, and what was applied. */
export interface Governed {
  readonly principal: Principal;
  readonly report: GovernanceReport;
}

const classified = new WeakMap<object, Map<string, ReadonlyMap<string, SensitiveKind>>>();

/** The table definition (physical columns) of `spec`, as SQL binds it. */
export function tableDef(spec: TableSpec): TableDef {
  const session = new SqlSession();
  session.execute(
    `CREATE TABLE \`${spec.name}\` (${tableColumns(spec)}) WITH ('connector' = '${DATASTREAM_CONNECTOR}')`,
  );
  return session.catalog.table(spec.name, { line: 0, column: 0 });
}

/** The sensitive columns of the tables of `sealed`, classified over their snapshots there (none for `unmask`). */
export function tableClassifier(
  ctx: TableReadContext,
  sealed: SealedCheckpoint,
  principal: Principal,
): (def: TableDef) => Promise<ReadonlyMap<string, SensitiveKind>> {
  return async (def) => {
    if (hasGrant(principal, "unmask")) return new Map();
    const cache = classified.get(ctx.store) ?? new Map<string, ReadonlyMap<string, SensitiveKind>>();
    classified.set(ctx.store, cache);
    const key = `${ctx.job}\u0000${def.name}\u0000${sealed.checkpoint}`;
    let found = cache.get(key);
    if (!found) {
      const spec = sealed.tables.find((t) => t.name === def.name) as TableSpec;
      const rows = (await snapshotRows(ctx, spec, sealed.checkpoint)).map((r) => toRow(def, r));
      found = new Map([...classifyRows(def.physical, rows)].map(([c, k]) => [c, k.kind]));
      if (cache.size > 256) cache.clear();
      cache.set(key, found);
    }
    return found;
  };
}

/** The governance context of a read at `sealed` with every named table classified beforehand. */
export async function governanceFor(
  ctx: TableReadContext,
  sealed: SealedCheckpoint,
  principal: Principal,
  defs: readonly TableDef[],
): Promise<GovernanceContext> {
  const classify = tableClassifier(ctx, sealed, principal);
  const found = new Map<string, ReadonlyMap<string, SensitiveKind>>();
  for (const d of defs) found.set(d.name, await classify(d));
  return { principal, sensitive: (t) => found.get(t.name) ?? new Map() };
}

function toRow(def: TableDef, row: Readonly<Record<string, unknown>>): Row {
  return def.physical.map((f) => row[f.name] ?? null);
}

function toObject(def: TableDef, row: Row): Record<string, unknown> {
  return Object.fromEntries(def.physical.map((f, i) => [f.name, row[i]]));
}

/** One table's rows as `principal` sees them. */
export interface TableView {
  /** The row masked, or null when the row policy hides it. */
  readonly row: (row: Readonly<Record<string, unknown>> | null) => Record<string, unknown> | null;
  readonly report: GovernanceReport;
}

/** The view of `spec` at `sealed` for `principal` (checks `read:<table>`). */
export async function tableView(
  ctx: TableReadContext,
  sealed: SealedCheckpoint,
  spec: TableSpec,
  principal: Principal,
): Promise<TableView> {
  const def = tableDef(spec);
  const governor: RowGovernor = rowGovernor(def, await governanceFor(ctx, sealed, principal, [def]));
  return {
    row: (row) => {
      if (row === null) return null;
      const seen = governor.view(toRow(def, row));
      return seen === undefined ? null : toObject(def, seen);
    },
    report: governor.report,
  };
}

/**
 * `changes` as the view sees them: a visible row masked (its key from the masked row);
 * a row the policy hides, or a deletion, is a deletion when the key's row before it was
 * visible (`before`: the row at the previous sealed checkpoint), and nothing otherwise.
 */
export async function viewChanges(
  spec: TableSpec,
  view: TableView,
  changes: readonly TableChange[],
  before: (change: TableChange) => Promise<Record<string, unknown> | null>,
): Promise<TableChange[]> {
  const out: TableChange[] = [];
  const pk = spec.primaryKey;
  for (const c of changes) {
    const row = view.row(c.row);
    if (row !== null) {
      out.push({ ...c, row, ...(pk ? { key: JSON.parse(keyOf(pk, row)) as unknown[] } : {}) });
      continue;
    }
    const was = view.row(await before(c));
    if (was === null) continue;
    out.push({ checkpoint: c.checkpoint, op: "delete", row: null, ...(pk ? { key: JSON.parse(keyOf(pk, was)) } : {}) });
  }
  return out;
}
