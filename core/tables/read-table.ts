/**
 * The one entry every read of a dynamic table goes through (HTTP routes, `riffle query`):
 * {@link readTable} takes a request and answers with the checkpoint it read at. A query
 * loads the SQL layer on first use only.
 */

import type { SealedCheckpoint, TableSpec } from "../ports/table-store.ts";
import type { QueryAnswer } from "./query.ts";
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

/** Answers `request` over the tables of `ctx`; a refusal is a {@link TableReadError} (or a `SqlError` for a bad query). */
export async function readTable(ctx: TableReadContext, request: TableRequest): Promise<TableAnswer> {
  switch (request.kind) {
    case "list": {
      const sealed = await resolveAt(ctx, request.at);
      const checkpoints = (await ctx.store.sealed(ctx.job)).map((s) => s.checkpoint);
      return { kind: "list", checkpoint: sealed.checkpoint, checkpoints, tables: sealed.tables };
    }
    case "lookup": {
      const sealed = await resolveAt(ctx, request.at);
      const spec = specAt(ctx, sealed, request.table);
      const row = await lookupRow(ctx, spec, request.key, sealed.checkpoint);
      return { kind: "lookup", checkpoint: sealed.checkpoint, table: spec.name, row };
    }
    case "snapshot": {
      const sealed = await resolveAt(ctx, request.at);
      const spec = specAt(ctx, sealed, request.table);
      return {
        kind: "snapshot",
        checkpoint: sealed.checkpoint,
        table: spec.name,
        rows: await snapshotRows(ctx, spec, sealed.checkpoint),
      };
    }
    case "changes":
      return changes(ctx, request);
    case "query": {
      const { queryAt } = await import("./query.ts");
      return { kind: "query", ...(await queryAt(ctx, request.sql, request.at)) };
    }
  }
}

async function changes(
  ctx: TableReadContext,
  request: Extract<TableRequest, { kind: "changes" }>,
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
  const list = request.from >= through.checkpoint ? [] : await tableChanges(ctx, spec, request.from, through, all);
  return { kind: "changes", checkpoint: through.checkpoint, table: spec.name, from: request.from, changes: list };
}
