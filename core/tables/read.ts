/**
 * Consistent reads of a job's dynamic tables. Every read names a sealed checkpoint or
 * takes the newest, and answers with the checkpoint it read: a point lookup, a snapshot,
 * the changes after a checkpoint, the list of tables. Queries (`query.ts`) read every
 * table they name at one checkpoint through {@link snapshotRows}. {@link readTable} is the
 * one entry the HTTP routes and the CLI call per read.
 */

import { RiffleError } from "../errors.ts";
import type { SealedCheckpoint, TableSpec, TableStore, TaggedVersion } from "../ports/table-store.ts";
import { keyOf } from "./fold.ts";

/** Where a job's tables are read. */
export interface TableReadContext {
  readonly job: string;
  readonly store: TableStore;
  /** Savepoint name → the checkpoint it materializes (for `savepoint` reads). */
  readonly savepointCheckpoint?: (name: string) => Promise<number | undefined>;
}

/** Why a read was refused; `reason` is the HTTP API's error code (all 4xx: {@link readErrorStatus}). */
export class TableReadError extends RiffleError {
  constructor(
    reason: "unknown-table" | "unknown-checkpoint" | "unknown-savepoint" | "no-snapshot" | "invalid-key",
    message: string,
  ) {
    super(reason, message);
  }
}

/** The HTTP status of a {@link TableReadError}. */
export function readErrorStatus(e: TableReadError): number {
  return e.reason === "invalid-key" ? 400 : 404;
}

/** Which checkpoint a read is at: a checkpoint id, a savepoint's, or (neither) the newest sealed one. */
export interface ReadAt {
  readonly at?: number;
  readonly savepoint?: string;
}

/** The sealed checkpoint a read is at; refuses an unknown or expired one. */
export async function resolveAt(ctx: TableReadContext, where: ReadAt = {}): Promise<SealedCheckpoint> {
  const sealed = await ctx.store.sealed(ctx.job);
  let at = where.at;
  if (where.savepoint !== undefined) {
    at = await ctx.savepointCheckpoint?.(where.savepoint);
    if (at === undefined)
      throw new TableReadError("unknown-savepoint", `job '${ctx.job}' has no savepoint '${where.savepoint}'`);
  }
  const newest = sealed[sealed.length - 1];
  if (at === undefined) {
    if (!newest)
      throw new TableReadError(
        "no-snapshot",
        `job '${ctx.job}' has no table snapshot yet (no checkpoint published one)`,
      );
    return newest;
  }
  const found = sealed.find((s) => s.checkpoint === at);
  if (!found) {
    const kept = sealed.map((s) => s.checkpoint);
    throw new TableReadError(
      "unknown-checkpoint",
      `job '${ctx.job}' has no table snapshot at checkpoint ${at} (kept: ${kept.length ? kept.join(", ") : "none"})`,
    );
  }
  return found;
}

/** The spec of table `name` at `sealed`, or a {@link TableReadError}. */
export function specAt(ctx: TableReadContext, sealed: SealedCheckpoint, name: string): TableSpec {
  const spec = sealed.tables.find((t) => t.name === name);
  if (!spec) {
    const names = sealed.tables.map((t) => t.name);
    throw new TableReadError(
      "unknown-table",
      `job '${ctx.job}' has no dynamic table '${name}' (tables: ${names.length ? names.join(", ") : "none"})`,
    );
  }
  return spec;
}

/** The rows of `spec` at checkpoint `at` (deletions left out). */
export async function snapshotRows(
  ctx: TableReadContext,
  spec: TableSpec,
  at: number,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const v of await ctx.store.scan(ctx.job, spec.name, at)) if (v.row !== null) out.push(v.row);
  return out;
}

/** One change of a table's stream side, in checkpoint order. */
export interface TableChange {
  /** The sealed checkpoint that published it. */
  readonly checkpoint: number;
  /**
   * `upsert` and `delete` (upsert table, one per key and checkpoint) or `insert` (append
   * table; `delete` there only when a savepoint restore took a row back).
   */
  readonly op: "upsert" | "delete" | "insert";
  readonly row: Record<string, unknown> | null;
  /** The primary key's values (upsert table). */
  readonly key?: unknown[];
}

/**
 * The changes of `spec` after sealed checkpoint `from` through `through`. A version
 * tagged with a checkpoint that was never sealed (its publication crashed) counts in
 * the next sealed one; an upsert table reports each key's last version per checkpoint.
 */
export async function tableChanges(
  ctx: TableReadContext,
  spec: TableSpec,
  from: number,
  through: SealedCheckpoint,
  sealed: readonly SealedCheckpoint[],
): Promise<TableChange[]> {
  const ids = sealed.map((s) => s.checkpoint).filter((c) => c <= through.checkpoint);
  const sealedAt = (tag: number) => ids.find((c) => c >= tag) ?? through.checkpoint;
  const versions = await ctx.store.changes(ctx.job, spec.name, from, through.checkpoint);
  if (!spec.primaryKey)
    return versions.map((v) => ({
      checkpoint: sealedAt(v.checkpoint),
      op: v.row === null ? ("delete" as const) : ("insert" as const),
      row: v.row,
    }));
  const last = new Map<string, TaggedVersion & { sealedAt: number }>();
  for (const v of versions) {
    const k = `${sealedAt(v.checkpoint)}\u0000${v.key}`;
    last.set(k, { ...v, sealedAt: sealedAt(v.checkpoint) });
  }
  return [...last.values()]
    .sort((a, b) => a.sealedAt - b.sealedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((v) => ({
      checkpoint: v.sealedAt,
      op: v.row === null ? ("delete" as const) : ("upsert" as const),
      row: v.row,
      key: JSON.parse(v.key) as unknown[],
    }));
}

/**
 * The row of `spec` whose primary key is `key` at checkpoint `at` (`null`: none). Each
 * key part given as text also matches a number of the same text, as a query string
 * cannot say which it is.
 */
export async function lookupRow(
  ctx: TableReadContext,
  spec: TableSpec,
  key: readonly string[],
  at: number,
): Promise<Record<string, unknown> | null> {
  const pk = spec.primaryKey;
  if (!pk) throw new TableReadError("invalid-key", `table '${spec.name}' has no primary key: query it instead`);
  // One text for a composite key: its parts separated by commas (`?key=a,b`).
  if (key.length === 1 && pk.length > 1) key = (key[0] as string).split(",");
  if (key.length !== pk.length)
    throw new TableReadError(
      "invalid-key",
      `table '${spec.name}' has a primary key of ${pk.length} column(s) (${pk.join(", ")}), got ${key.length} key value(s)`,
    );
  for (const values of keyCandidates(key)) {
    const row = Object.fromEntries(pk.map((c, i) => [c, values[i]]));
    const v = await ctx.store.get(ctx.job, spec.name, keyOf(pk, row), at);
    if (v) return v.row;
  }
  return null;
}

/** Every reading of the key parts: text, or a number where the text is one. */
function keyCandidates(key: readonly string[]): unknown[][] {
  let out: unknown[][] = [[]];
  for (const part of key) {
    const n = Number(part);
    const readings: unknown[] = part.trim() !== "" && Number.isFinite(n) ? [part, n] : [part];
    out = out.flatMap((prefix) => readings.map((r) => [...prefix, r]));
  }
  return out.slice(0, 16);
}
