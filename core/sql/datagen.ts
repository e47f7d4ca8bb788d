/**
 * The `datagen` connector, as in Flink: rows of random or sequence values per column, for
 * trying queries out. Values are a function of the row's index (a seeded hash), so a replay
 * after a failure reads the same rows: exactly once needs a deterministic source.
 *
 * Options: `number-of-rows` (unbounded without it); per column `fields.<c>.kind` =
 * `random` (default) or `sequence`, with `fields.<c>.min` / `.max` (random numbers),
 * `fields.<c>.start` / `.end` (sequences; the shortest bounds the row count) and
 * `fields.<c>.length` (random strings, default 10). TIMESTAMP(3) columns count milliseconds
 * from 2015-07-15T00:00:00Z, one per row.
 */
import { generatorSource, type Source } from "../api/source.ts";
import { invalid, unsupported } from "./errors.ts";
import type { Row } from "./expr.ts";
import type { Field, TableDef } from "./logical.ts";

const BASE_TIME = Date.UTC(2015, 6, 15);
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** A 32-bit hash of (row, column, draw): the source of every random value. */
function hash(row: number, column: number, draw: number): number {
  let h = Math.imul(row ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(column + 1, 0xc2b2ae35) ^ Math.imul(draw + 7, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

type Column = (row: number) => unknown;

function numberOption(table: TableDef, key: string): number | undefined {
  const text = table.options[key];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n))
    throw invalid(table.pos, `option '${key}' of table '${table.name}' must be a number, got '${text}'`);
  return n;
}

function column(table: TableDef, f: Field, c: number): { fn: Column; rows?: number } {
  const opt = (k: string) => numberOption(table, `fields.${f.name}.${k}`);
  const kind = table.options[`fields.${f.name}.kind`] ?? "random";
  const integer = f.type.kind === "BIGINT" || f.type.kind === "INT";
  if (kind === "sequence") {
    if (!integer) throw unsupported(table.pos, `a datagen sequence of ${f.type.kind} (column '${f.name}')`);
    const start = opt("start") ?? 0;
    const end = opt("end");
    return { fn: (i) => start + i, ...(end === undefined ? {} : { rows: end - start + 1 }) };
  }
  if (kind !== "random")
    throw invalid(table.pos, `'fields.${f.name}.kind' must be 'random' or 'sequence', got '${kind}'`);
  switch (f.type.kind) {
    case "BIGINT":
    case "INT":
    case "DOUBLE":
    case "DECIMAL": {
      const min = opt("min") ?? 0;
      const max = opt("max") ?? (f.type.kind === "INT" ? 2 ** 31 - 1 : 1_000_000);
      const u = (i: number) => hash(i, c, 0) / 2 ** 32;
      return { fn: integer ? (i) => min + Math.floor(u(i) * (max - min + 1)) : (i) => min + u(i) * (max - min) };
    }
    case "BOOLEAN":
      return { fn: (i) => hash(i, c, 0) % 2 === 0 };
    case "VARCHAR": {
      const length = opt("length") ?? 10;
      return { fn: (i) => Array.from({ length }, (_, k) => LETTERS[hash(i, c, k) % 26]).join("") };
    }
    case "TIMESTAMP":
      return { fn: (i) => BASE_TIME + i };
    default:
      throw unsupported(table.pos, `a datagen column of type ${f.type.kind} ('${f.name}')`);
  }
}

/** The datagen source of `table`'s physical columns. */
export function datagenSource(table: TableDef): Source<Row> {
  const columns = table.physical.map((f, c) => column(table, f, c));
  const bounds = [numberOption(table, "number-of-rows"), ...columns.map((c) => c.rows)].filter((n) => n !== undefined);
  const count = bounds.length > 0 ? Math.min(...bounds) : undefined;
  const fns = columns.map((c) => c.fn);
  return {
    ...generatorSource((i): Row => fns.map((f) => f(i)), count === undefined ? {} : { count }),
    name: "datagen",
  };
}
