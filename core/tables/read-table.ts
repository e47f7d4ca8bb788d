/**
 * The one entry every read of a dynamic table goes through (HTTP routes, `riffle query`):
 * {@link readTable} takes a request and answers with the checkpoint it read at. A query
 * loads the SQL layer on first use only.
 */

import type { SealedCheckpoint, TableSpec } from "../ports/table-store.ts";
import type { QueryAnswer, QueryReader } from "./query.ts";
import {
  lookupRow,
  type ReadAt,
  resolveAt,
  snapshotRows,
  specAt,
  type TableChange,
  type TableReadContext,
  TableReadError,
  tableChanges,
} from "./read.ts";

/** A read of a job's dynamic tables. */
export type TableRequest =
  | { readonly kind: "list"; readonly at?: ReadAt }
  | { readonly kind: "lookup"; readonly table: string; readonly key: readonly string[]; readonly at?: ReadAt }
  | { readonly kind: "snapshot"; readonly table: string; readonly at?: ReadAt }
  | { readonly kind: "changes"; readonly table: string; readonly from: number; readonly through?: number }
  | { readonly kind: "query"; readonly sql: string; readonly at?: ReadAt };

/** What each request answers; every answer names the checkpoint it was read at. */
export type TableAnswer =
  | {
      readonly kind: "list";
      readonly checkpoint: number;
      readonly checkpoints: number[];
      readonly tables: readonly TableSpec[];
    }
  | {
      readonly kind: "lookup";
      readonly checkpoint: number;
      readonly table: string;
      readonly row: Record<string, unknown> | null;
    }
  | {
      readonly kind: "snapshot";
      readonly checkpoint: number;
      readonly table: string;
      readonly rows: Record<string, unknown>[];
    }
  | {
      readonly kind: "changes";
      readonly checkpoint: number;
      readonly table: string;
      readonly from: number;
      readonly changes: TableChange[];
    }
  | ({ readonly kind: "query" } & QueryAnswer);

/**
 * Answers `request` over the tables of `ctx`; a refusal is a {@link TableReadError} (or a
 * `SqlError` for a bad query). With `reader`, the rows are those its principal may see
 * (`governed-read.ts`): row policy applied, columns masked; a missing `read:<table>` is a
 * `ForbiddenError`.
 */
export async function readTable(
  ctx: TableReadContext,
  request: TableRequest,
  reader?: QueryReader,
): Promise<TableAnswer> {
  switch (request.kind) {
    case "list": {
      const sealed = await resolveAt(ctx, request.at);
      const checkpoints = (await ctx.store.sealed(ctx.job)).map((s) => s.checkpoint);
      return { kind: "list", checkpoint: sealed.checkpoint, checkpoints, tables: sealed.tables };
    }
    case "lookup": {
      const sealed = await resolveAt(ctx, request.at);
      const spec = specAt(ctx, sealed, request.table);
      const view = reader ? await viewOf(ctx, sealed, spec, reader) : undefined;
      const row = await lookupRow(ctx, spec, request.key, sealed.checkpoint);
      return { kind: "lookup", checkpoint: sealed.checkpoint, table: spec.name, row: view ? view.row(row) : row };
    }
    case "snapshot": {
      const sealed = await resolveAt(ctx, request.at);
      const spec = specAt(ctx, sealed, request.table);
      const view = reader ? await viewOf(ctx, sealed, spec, reader) : undefined;
      const rows = await snapshotRows(ctx, spec, sealed.checkpoint);
      const seen = view ? rows.map(view.row).filter((r) => r !== null) : rows;
      return { kind: "snapshot", checkpoint: sealed.checkpoint, table: spec.name, rows: seen };
    }
    case "changes":
      return changes(ctx, request, reader);
    case "query": {
      const { queryAt } = await import("./query.ts");
      return { kind: "query", ...(await queryAt(ctx, request.sql, request.at, reader)) };
    }
  }
}

/** The governed view of `spec` for `reader` (checks its read grant), reported. */
async function viewOf(ctx: TableReadContext, sealed: SealedCheckpoint, spec: TableSpec, reader: QueryReader) {
  const { tableView } = await import("./governed-read.ts");
  const view = await tableView(ctx, sealed, spec, reader.principal);
  reader.applied?.(view.report);
  return view;
}

async function changes(
  ctx: TableReadContext,
  request: Extract<TableRequest, { kind: "changes" }>,
  reader: QueryReader | undefined,
): Promise<TableAnswer> {
  const all = await ctx.store.sealed(ctx.job);
  const through: SealedCheckpoint = await resolveAt(ctx, request.through === undefined ? {} : { at: request.through });
  if (request.from !== 0 && !all.some((s) => s.checkpoint === request.from) && request.from < through.checkpoint) {
    const oldest = all[0]?.checkpoint;
    if (oldest !== undefined && request.from < oldest)
      throw new TableReadError(
        "unknown-checkpoint",
        `changes from checkpoint ${request.from} are no longer kept (oldest snapshot: ${oldest}); read the snapshot at ${oldest} and follow from there`,
      );
  }
  const spec = specAt(ctx, through, request.table);
  const view = reader ? await viewOf(ctx, through, spec, reader) : undefined;
  let list = request.from >= through.checkpoint ? [] : await tableChanges(ctx, spec, request.from, through, all);
  if (view) {
    const { viewChanges } = await import("./governed-read.ts");
    const before = async (c: TableChange) => {
      const previous = all.filter((s) => s.checkpoint < c.checkpoint).at(-1)?.checkpoint;
      if (previous === undefined || c.key === undefined) return null;
      return (await ctx.store.get(ctx.job, spec.name, JSON.stringify(c.key), previous))?.row ?? null;
    };
    list = await viewChanges(spec, view, list, before);
  }
  return { kind: "changes", checkpoint: through.checkpoint, table: spec.name, from: request.from, changes: list };
}
