/**
 * `riffle describe`: the tables a SQL script declares, each column with its type and
 * what the sensitive-data classifier finds in it (card, email, phone, national-id,
 * iban), over a sample of a `filesystem` table's rows, and the mask governed reads
 * apply to it for principals without `unmask`. Other connectors are not sampled.
 */
import { UsageError } from "../core/errors.ts";
import { CLASSIFY_SAMPLE, classifyRows } from "../core/governance/classify.ts";
import { maskFunctionFor } from "../core/governance/masks.ts";
import { connectorOf } from "../core/sql/connectors.ts";
import { SqlError } from "../core/sql/errors.ts";
import { readFilesystemTable } from "../core/sql/filesystem.ts";
import type { TableDef } from "../core/sql/logical.ts";
import { SqlSession } from "../core/sql/session.ts";
import { showType } from "../core/sql/types.ts";
import { readScript } from "./sql.ts";
import { printTable } from "./table.ts";

/** One line of `riffle describe`. */
export interface ColumnDescription {
  readonly table: string;
  readonly column: string;
  readonly type: string;
  /** The kind found, `-` when none, `not sampled` for a connector riffle does not sample. */
  readonly sensitive: string;
  /** Share of the sampled non-empty values of that kind. */
  readonly share: string;
  /** The masking function governed reads apply, `-` when none. */
  readonly mask: string;
}

/** Each column of `table`, classified over the first rows of a filesystem table. */
export function describeTable(table: TableDef): ColumnDescription[] {
  const sampled = connectorOf(table) === "filesystem";
  const found = sampled ? classifyRows(table.physical, readFilesystemTable(table)) : new Map();
  return table.physical.map((f) => {
    const c = found.get(f.name);
    const mask = c === undefined ? "-" : f.type.kind === "VARCHAR" ? maskFunctionFor(c.kind) : "MASK";
    return {
      table: table.name,
      column: f.name,
      type: showType(f.type),
      sensitive: c?.kind ?? (sampled ? "-" : `not sampled (${connectorOf(table)})`),
      share: c === undefined ? "-" : c.share.toFixed(2),
      mask,
    };
  });
}

/** Runs `riffle describe`; resolves with the exit code. */
export async function describeCommand(files: readonly string[], defines: readonly string[] = []): Promise<number> {
  const text = readScript(files, defines);
  const where = files.join(" + ");
  const session = new SqlSession();
  let lines: ColumnDescription[];
  try {
    session.execute(text);
    lines = [...session.catalog.tables.values()].flatMap(describeTable);
  } catch (error) {
    if (error instanceof SqlError) throw new UsageError(`${where}: ${error.message}`, { cause: error });
    throw error;
  }
  if (lines.length === 0) throw new UsageError(`${where} declares no table (CREATE TABLE …)`);
  printTable(`columns (classified over up to ${CLASSIFY_SAMPLE} rows per table)`, lines);
  return 0;
}
