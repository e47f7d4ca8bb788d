/**
 * The `filesystem` connector on local files (`'path' = 'file:///…'` or a plain path), as in Flink:
 *
 * - as a sink it is exactly once: each epoch of each sink partition is a transaction of riffle's
 *   two-phase sink, written under `<path>/.staging/<txn>/` (hidden) and renamed into place when
 *   the checkpoint that ends the epoch completes, so a file becomes visible only with its
 *   checkpoint, and a commit that runs again after a restore renames what is left (the names are
 *   deterministic). Files roll at every checkpoint. `PARTITIONED BY (a, b)` writes rows into
 *   `<path>/a=…/b=…/` directories (Hive-style, values escaped as Flink does) and leaves the
 *   partition columns out of the files;
 * - as a source it is bounded: it reads every file under `path` (or the file `path` names), one
 *   split per file, skipping hidden names (`.` and `_`), with the partition columns from the
 *   directory names.
 *
 * Options: `path`, `format` (`csv` or `json`); the legacy `connector.path` and `format.type`;
 * Flink's partition-commit, rolling-policy and time-extractor options are accepted (partitions
 * are not marked committed; files roll at checkpoints).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Source, SourceSplit } from "../api/source.ts";
import type { TwoPhaseCommitSink } from "../api/two-phase-sink.ts";
import { invalid } from "./errors.ts";
import type { Row } from "./expr.ts";
import { parseValue, rowFormat } from "./formats.ts";
import type { Field, TableDef } from "./logical.ts";

const OPTIONS = new Set(["connector", "connector.type", "path", "connector.path", "format", "format.type"]);
const ACCEPTED_PREFIXES = ["sink.partition-commit.", "sink.rolling-policy.", "partition.time-extractor."];
const DEFAULT_PARTITION = "__DEFAULT_PARTITION__";

/** The directory or file a filesystem table reads or writes, checked options. */
export function filesystemPath(table: TableDef): string {
  for (const k of Object.keys(table.options))
    if (!OPTIONS.has(k) && !ACCEPTED_PREFIXES.some((p) => k.startsWith(p)))
      throw invalid(table.pos, `the filesystem connector has no option '${k}' (table '${table.name}')`);
  const path = table.options.path ?? table.options["connector.path"];
  if (!path) throw invalid(table.pos, `filesystem table '${table.name}' needs a 'path'`);
  return path.startsWith("file://") ? path.slice("file://".length) : path;
}

/** `table`'s columns written into files, and the partition columns (written into directory names). */
function layout(table: TableDef): { data: Field[]; partitions: number[] } {
  const names = table.partitionedBy ?? [];
  const partitions = names.map((n) => table.physical.findIndex((f) => f.name === n));
  return { data: table.physical.filter((f) => !names.includes(f.name)), partitions };
}

/** Flink's `PartitionPathUtils.escapePathName`. */
const ESCAPED = new Set("\"#%'*/:=?\\{[]^\u007f");
const escapePathName = (s: string) =>
  [...s]
    .map((c) =>
      c.charCodeAt(0) < 0x20 || ESCAPED.has(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}` : c,
    )
    .join("");

/** A transaction: its staging directory and the name its files get. */
export interface FilesystemTxn {
  readonly root: string;
  readonly name: string;
}

const stagingOf = (t: FilesystemTxn) => join(t.root, ".staging", t.name);

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, hidden: boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => hidden || !f.split(sep).some((part) => part.startsWith(".") || part.startsWith("_")))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

/** The exactly-once sink of a filesystem table (see the module comment). */
export function filesystemSink(table: TableDef): TwoPhaseCommitSink<Row, FilesystemTxn> {
  const root = filesystemPath(table);
  const { data, partitions } = layout(table);
  const format = rowFormat(table, data);
  const dataColumns = table.physical.flatMap((_, i) => (partitions.includes(i) ? [] : [i]));
  const dirOf = (row: Row) =>
    partitions
      .map((p) => {
        const v = row[p];
        return `${table.physical[p]?.name}=${v === null || v === undefined || v === "" ? DEFAULT_PARTITION : escapePathName(String(v))}`;
      })
      .join("/");
  return {
    beginTransaction(t) {
      const txn = { root, name: `${t.operator}-${t.partition}-${t.checkpointId}-g${t.generation}` };
      rmSync(stagingOf(txn), { recursive: true, force: true }); // a retried barrier starts afresh
      return txn;
    },
    invoke(txn, rows) {
      const byDir = new Map<string, string[]>();
      for (const row of rows) {
        const dir = dirOf(row);
        const lines = byDir.get(dir) ?? [];
        byDir.set(dir, lines);
        lines.push(format.encode(dataColumns.map((i) => row[i])));
      }
      for (const [dir, lines] of byDir) {
        const at = join(stagingOf(txn), dir);
        mkdirSync(at, { recursive: true });
        writeFileSync(join(at, `part-${txn.name}.${format.ext}`), `${lines.join("\n")}\n`);
      }
    },
    preCommit(txn) {
      for (const f of filesUnder(stagingOf(txn), true)) {
        const fd = openSync(join(stagingOf(txn), f), "r");
        fsyncSync(fd);
        closeSync(fd);
      }
    },
    commit(txn) {
      const staging = stagingOf(txn);
      for (const f of filesUnder(staging, true)) {
        mkdirSync(dirname(join(txn.root, f)), { recursive: true });
        renameSync(join(staging, f), join(txn.root, f));
      }
      rmSync(staging, { recursive: true, force: true });
    },
    abort: (txn) => rmSync(stagingOf(txn), { recursive: true, force: true }),
  };
}

/** One file of a filesystem source: its path and its partition columns' values (by column index). */
interface FileSplit extends SourceSplit {
  readonly file: string;
  readonly values: readonly [number, string | null][];
}

function splitsOf(table: TableDef): FileSplit[] {
  const root = filesystemPath(table);
  if (!existsSync(root)) throw invalid(table.pos, `filesystem table '${table.name}': no file or directory '${root}'`);
  if (statSync(root).isFile()) return [{ id: root, file: root, values: [] }];
  const { partitions } = layout(table);
  return filesUnder(root, false).map((f) => {
    const dirs = relative(root, dirname(join(root, f))).split(sep);
    const values = partitions.map((p): [number, string | null] => {
      const name = table.physical[p]?.name;
      const dir = dirs.find((d) => d.startsWith(`${name}=`));
      const v = dir === undefined ? null : decodeURIComponent(dir.slice(`${name}=`.length));
      return [p, v === DEFAULT_PARTITION ? null : v];
    });
    return { id: f, file: join(root, f), values };
  });
}

/** The rows of one file, in the table's physical column order. */
function readSplit(table: TableDef, split: FileSplit): Row[] {
  const { data, partitions } = layout(table);
  const format = rowFormat(table, data);
  const partitionValue = new Map(
    split.values.map(([c, v]) => [c, v === null ? null : parseValue(v, (table.physical[c] as Field).type, split.file)]),
  );
  return readFileSync(split.file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line, i) => {
      const values = format.decode(line, `${split.file}:${i + 1}`);
      const row: unknown[] = [];
      let d = 0;
      for (let c = 0; c < table.physical.length; c++) {
        row.push(partitions.includes(c) ? partitionValue.get(c) : values[d++]);
      }
      return row;
    });
}

/** Checks at plan time that a filesystem table can be read: its options, format and path. */
export function checkFilesystemTable(table: TableDef): void {
  rowFormat(table, layout(table).data);
  splitsOf(table);
}

/** Every row of a filesystem table (a lookup join's side input). */
export function readFilesystemTable(table: TableDef): Row[] {
  return splitsOf(table).flatMap((s) => readSplit(table, s));
}

/** The bounded source of a filesystem table (see the module comment). */
export function filesystemSource(table: TableDef): Source<Row> {
  checkFilesystemTable(table);
  return {
    name: "filesystem",
    bounded: true,
    splits: () => splitsOf(table),
    reader(split, position) {
      const rows = readSplit(table, split as FileSplit);
      let next = typeof position === "number" ? position : 0;
      return {
        read(max) {
          const records = rows.slice(next, next + max);
          next += records.length;
          return { records, position: next, done: next >= rows.length };
        },
      };
    },
  };
}
