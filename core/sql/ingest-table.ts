/**
 * The `ingest` connector: a table fed over HTTP (`POST /jobs/{job}/sources/{source}/events`), riffle's
 * {@link ingestSource} with a record schema made from the table's columns. Each record is a
 * JSON object keyed by column name; a record whose fields do not fit the columns' types is
 * refused with 422 before anything of its request is stored. Options: `source` (the ingest
 * source's name in the URL, default the table's name) and `partitions` (default 4).
 */
import { type IngestSource, ingestSource } from "../api/ingest.ts";
import type { StandardIssue, StandardSchemaV1 } from "../api/schema.ts";
import type { Source, SplitReader } from "../api/source.ts";
import { invalid } from "./errors.ts";
import type { Row } from "./expr.ts";
import type { Field, TableDef } from "./logical.ts";
import { showType } from "./types.ts";

/** The source of an `ingest` table: rows of its physical columns, in their order. */
export function ingestTable(table: TableDef): Source<Row> {
  const name = table.options.source ?? table.name;
  const partitions = table.options.partitions === undefined ? 4 : Number(table.options.partitions);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw invalid(
      table.pos,
      `the ingest source name '${name}' must be 1-64 characters of A-Z a-z 0-9 _ - (option 'source')`,
    );
  if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 1024)
    throw invalid(table.pos, `option 'partitions' of table '${table.name}' must be an integer in 1..1024`);
  const inner = ingestSource<Record<string, unknown>>(name, { partitions, schema: rowSchema(table.physical) });
  const names = table.physical.map((f) => f.name);
  const times = table.physical.map((f) => f.type.kind === "TIMESTAMP");
  const toRow = (o: Record<string, unknown>): Row =>
    names.map((n, i) => {
      const v = o[n] ?? null;
      return times[i] && typeof v === "string" ? Date.parse(v) : v;
    });
  const source: IngestSource<Row> = {
    ...inner,
    reader: (split, position, context): SplitReader<Row> => {
      const r = inner.reader(split, position, context);
      return {
        async read(max) {
          const chunk = await r.read(max);
          return { ...chunk, records: chunk.records.map(toRow) };
        },
      };
    },
  };
  return source;
}

/** Whether `v` fits a column of `field`'s type (NULL fits every column). */
function fits(field: Field, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (field.type.kind) {
    case "BIGINT":
    case "INT":
      return Number.isSafeInteger(v);
    case "DOUBLE":
    case "DECIMAL":
      return typeof v === "number" && Number.isFinite(v);
    case "BOOLEAN":
      return typeof v === "boolean";
    case "VARCHAR":
      return typeof v === "string";
    case "TIMESTAMP":
      return Number.isSafeInteger(v) || (typeof v === "string" && !Number.isNaN(Date.parse(v)));
    default:
      return true; // ROW, ARRAY, MAP: any JSON value
  }
}

/** A Standard Schema validator of records for `fields`: objects whose known fields fit their columns. */
export function rowSchema(fields: readonly Field[]): StandardSchemaV1<unknown, Record<string, unknown>> {
  const validate = (value: unknown) => {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return { issues: [{ message: "expected a JSON object keyed by column name" }] };
    const record = value as Record<string, unknown>;
    const issues: StandardIssue[] = fields
      .filter((f) => !fits(f, record[f.name]))
      .map((f) => ({
        message: `expected ${showType(f.type)}${f.type.kind === "TIMESTAMP" ? " (epoch ms or an ISO-8601 string)" : ""}, got ${JSON.stringify(record[f.name])}`,
        path: [f.name],
      }));
    return issues.length > 0 ? { issues } : { value: record };
  };
  return { "~standard": { version: 1, vendor: "riffle-sql", validate } };
}
