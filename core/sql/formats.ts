/**
 * The `csv` and `json` formats of the filesystem connector, as Flink writes them: one line per
 * row; TIMESTAMP(3) as `yyyy-MM-dd HH:mm:ss.SSS` (UTC); in CSV a NULL is an empty field and an
 * empty string is `""`, fields are quoted only when they hold a comma, quote or line break; in
 * JSON each row is an object keyed by column name.
 */
import { invalid } from "./errors.ts";
import type { Row } from "./expr.ts";
import type { Field, TableDef } from "./logical.ts";
import { formatTimestamp } from "./time-format.ts";
import type { SqlType } from "./types.ts";

/** Encodes rows to lines and lines back to rows, for a list of columns. */
export interface RowFormat {
  /** The file name extension (`csv`, `json`). */
  readonly ext: string;
  encode(row: Row): string;
  /** The row of one line; `where` names the file and line in errors. */
  decode(line: string, where: string): Row;
}

const TIMESTAMP_PATTERN = "yyyy-MM-dd HH:mm:ss.SSS";

/** A value as text (undefined for NULL). */
function show(v: unknown, t: SqlType): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (t.kind === "TIMESTAMP") return formatTimestamp(v as number, TIMESTAMP_PATTERN);
  if (t.kind === "ROW") return JSON.stringify(v);
  return String(v);
}

/** A value of type `t` from text; `where` names the file and line in errors. */
export function parseValue(text: string, t: SqlType, where: string): unknown {
  switch (t.kind) {
    case "BIGINT":
    case "INT":
    case "DOUBLE":
    case "DECIMAL": {
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n)) throw invalid(undefined, `${where}: '${text}' is not a number`);
      return n;
    }
    case "BOOLEAN":
      return text.toLowerCase() === "true";
    case "TIMESTAMP": {
      const ms = Date.parse(`${text.trim().replace(" ", "T")}Z`);
      if (Number.isNaN(ms)) throw invalid(undefined, `${where}: '${text}' is not a TIMESTAMP`);
      return ms;
    }
    case "ROW":
      return JSON.parse(text);
    default:
      return text;
  }
}

function csvField(text: string | undefined): string {
  if (text === undefined) return "";
  return text === "" || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Splits one CSV line; a quoted field is returned with `quoted` set (so that `""` is an empty string, not NULL). */
function splitCsv(line: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let text = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error("unterminated quote");
        text += line.slice(i, q);
        if (line[q + 1] === '"') {
          text += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push({ text, quoted: true });
    } else {
      const c = line.indexOf(",", i);
      out.push({ text: line.slice(i, c < 0 ? line.length : c), quoted: false });
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push({ text: "", quoted: false });
      return out;
    }
  }
}

/** The format named by a table's `format` option (or the legacy `format.type`) over `fields`. */
export function rowFormat(table: TableDef, fields: readonly Field[]): RowFormat {
  const name = table.options.format ?? table.options["format.type"];
  if (name === "csv") {
    return {
      ext: "csv",
      encode: (row) => fields.map((f, i) => csvField(show(row[i], f.type))).join(","),
      decode(line, where) {
        let parts: { text: string; quoted: boolean }[];
        try {
          parts = splitCsv(line);
        } catch (cause) {
          throw invalid(undefined, `${where}: ${(cause as Error).message}`);
        }
        if (parts.length !== fields.length)
          throw invalid(
            undefined,
            `${where}: ${parts.length} field(s), but table '${table.name}' reads ${fields.length}`,
          );
        return fields.map((f, i) => {
          const p = parts[i] as { text: string; quoted: boolean };
          return p.text === "" && !p.quoted ? null : parseValue(p.text, f.type, where);
        });
      },
    };
  }
  if (name === "json") {
    return {
      ext: "json",
      encode: (row) =>
        JSON.stringify(
          Object.fromEntries(
            fields.map((f, i) => [f.name, f.type.kind === "TIMESTAMP" ? (show(row[i], f.type) ?? null) : row[i]]),
          ),
        ),
      decode(line, where) {
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(line) as Record<string, unknown>;
        } catch (cause) {
          throw invalid(undefined, `${where}: not a JSON object (${(cause as Error).message})`);
        }
        return fields.map((f) => {
          const v = o[f.name];
          if (v === null || v === undefined) return null;
          return typeof v === "string" && f.type.kind !== "VARCHAR" ? parseValue(v, f.type, where) : v;
        });
      },
    };
  }
  throw invalid(table.pos, `table '${table.name}' needs 'format' = 'csv' or 'json'${name ? `, got '${name}'` : ""}`);
}
