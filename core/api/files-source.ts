/**
 * `filesSource(dir)`: a bounded source over the JSON-lines or CSV files of a
 * directory, one split per file (in name order). A split's position is the number
 * of records it passed on, so a restore skips exactly those.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JobDefinitionError, RiffleError } from "../errors.ts";
import type { Source } from "./source.ts";

/** Options of {@link filesSource}. */
export interface FilesSourceOptions {
  /** `jsonl` (one JSON value a line) or `csv` (a header line, then rows as objects of strings). Default: by each file's extension. */
  readonly format?: "jsonl" | "csv";
}

/** A file that cannot be read or parsed. */
export class FilesSourceError extends RiffleError {
  constructor(message: string, options?: ErrorOptions) {
    super("files-source", message, options);
  }
}

const FORMATS: Record<string, "jsonl" | "csv"> = { ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv" };

/**
 * The records of the `.jsonl`/`.ndjson`/`.csv` files in `dir` (read at plan time:
 * files added later are not read). Empty lines are skipped.
 *
 * @example
 * ```ts
 * env.fromSource(filesSource("./history"))
 * ```
 */
export function filesSource<T = unknown>(dir: string, options: FilesSourceOptions = {}): Source<T> {
  return {
    name: "files",
    bounded: true,
    splits: () => {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch (cause) {
        throw new JobDefinitionError(`filesSource: cannot list '${dir}'`, { cause });
      }
      return names
        .filter((n) => options.format !== undefined || FORMATS[n.slice(n.lastIndexOf("."))] !== undefined)
        .map((n) => ({ id: n, file: join(dir, n) }));
    },
    reader: (split, position) => {
      const file = split.file as string;
      let records: T[] | undefined;
      let next = typeof position === "number" ? position : 0;
      return {
        read(max) {
          records ??= parseFile<T>(file, options.format ?? FORMATS[file.slice(file.lastIndexOf("."))] ?? "jsonl");
          const out = records.slice(next, next + max);
          next += out.length;
          return { records: out, position: next, done: next >= records.length };
        },
      };
    },
  };
}

function parseFile<T>(file: string, format: "jsonl" | "csv"): T[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new FilesSourceError(`filesSource: cannot read '${file}'`, { cause });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (format === "jsonl")
    return lines.map((line, i) => {
      try {
        return JSON.parse(line) as T;
      } catch (cause) {
        throw new FilesSourceError(`filesSource: '${file}' line ${i + 1} is not JSON`, { cause });
      }
    });
  const [header, ...rows] = lines.map(csvFields);
  return rows.map((row) => Object.fromEntries((header ?? []).map((h, i) => [h, row[i] ?? ""])) as T);
}

/** The fields of one CSV line (RFC 4180 quoting: `"a ""b"", c"`). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}
