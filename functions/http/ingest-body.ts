/**
 * The body of `POST /jobs/{job}/sources/{source}/events`: decoding, limits,
 * parsing (a JSON array, or NDJSON: one JSON value per line) and validation
 * against the source's Standard Schema. Each step throws an {@link HttpError}
 * that names the record (and line) and the reason. All records are validated
 * before any is ingested: a request is accepted whole or not at all.
 */

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describeIssues, type StandardResult, type StandardSchemaV1 } from "../../core/api/schema.ts";
import { HttpError } from "./errors.ts";
import { locateJsonError } from "./json-position.ts";

/** How many invalid records a 422 lists in its `errors` array. */
export const MAX_REPORTED_ERRORS = 10;

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/jsonl"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Records parsed from a body; `lines[i]` is record i's 1-based line (NDJSON only). */
export interface ParsedRecords {
  readonly records: unknown[];
  readonly lines?: readonly number[];
}

/** The media type of a request (lower case, no parameters), or undefined when it sent none. */
export function mediaType(event: APIGatewayProxyEventV2): { type?: string; charset?: string } {
  const header = event.headers?.["content-type"];
  if (header === undefined || header.trim() === "") return {};
  const [type = "", ...params] = header.split(";").map((s) => s.trim());
  const charset = params.find((p) => p.toLowerCase().startsWith("charset="))?.slice(8);
  return { type: type.toLowerCase(), charset: charset?.replace(/^"|"$/g, "").toLowerCase() };
}

/**
 * The request body as text: base64 bodies (`isBase64Encoded`) are decoded, the
 * decoded size is checked against `maxBodyBytes` (413) and the bytes must be UTF-8 (400).
 * Returns "" for a request without a body.
 */
export function bodyText(event: APIGatewayProxyEventV2, maxBodyBytes: number): string {
  const raw = event.body ?? "";
  const size = Buffer.byteLength(raw, event.isBase64Encoded ? "base64" : "utf8");
  if (size > maxBodyBytes) {
    throw new HttpError(
      413,
      "body-too-large",
      `request body is ${size} bytes, over the limit of ${maxBodyBytes} bytes; send the records in smaller requests`,
      { details: { bytes: size, limit: maxBodyBytes } },
    );
  }
  if (!event.isBase64Encoded) return raw;
  try {
    return utf8.decode(Buffer.from(raw, "base64"));
  } catch (cause) {
    throw new HttpError(400, "invalid-utf8", "request body is not valid UTF-8 text", { cause });
  }
}

function tooMany(count: number, maxRecords: number, counted: string): HttpError {
  return new HttpError(
    413,
    "too-many-records",
    `request holds ${count} ${counted}, over the limit of ${maxRecords} records per request; send the records in smaller requests`,
    { details: { records: count, limit: maxRecords } },
  );
}

function malformed(prefix: string, error: unknown, text: string, line?: number): HttpError {
  let reason = error instanceof Error ? error.message : String(error);
  // Within one NDJSON line, V8's "(line 1 column C)" would contradict the line number we give.
  if (line !== undefined) reason = reason.replace(/ \(line \d+ column (\d+)\)/, " (column $1)");
  const at = locateJsonError(text);
  const where =
    at === undefined || /position \d+/.test(reason)
      ? ""
      : line === undefined
        ? ` at position ${at.position} (line ${at.line} column ${at.column})`
        : ` at column ${at.column}`;
  const details: Record<string, unknown> = {};
  if (line !== undefined) details.line = line;
  if (at !== undefined) {
    if (line === undefined) Object.assign(details, { position: at.position, line: at.line });
    details.column = at.column;
  }
  return new HttpError(400, "malformed-json", `${prefix}: ${reason}${where}`, { details, cause: error });
}

function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Parses a JSON array of records. */
function parseArray(text: string, maxRecords: number): ParsedRecords {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw malformed("request body is not valid JSON", e, text);
  }
  if (!Array.isArray(value)) {
    throw new HttpError(
      400,
      "not-an-array",
      `request body must be a JSON array of records (or NDJSON with content-type application/x-ndjson), got ${describeKind(value)}`,
    );
  }
  if (value.length === 0)
    throw new HttpError(400, "empty-body", "request body is an empty array: send at least one record");
  if (value.length > maxRecords) throw tooMany(value.length, maxRecords, "records");
  return { records: value };
}

/** Parses NDJSON: one JSON value per line, blank lines ignored. */
function parseNdjson(text: string, maxRecords: number): ParsedRecords {
  const rows = text.split("\n");
  const numbered: number[] = [];
  for (let k = 0; k < rows.length; k++) if ((rows[k] as string).trim() !== "") numbered.push(k);
  if (numbered.length === 0) throw new HttpError(400, "empty-body", "request body holds no records (only blank lines)");
  if (numbered.length > maxRecords) throw tooMany(numbered.length, maxRecords, "non-blank lines");
  const records: unknown[] = [];
  const lines: number[] = [];
  for (const k of numbered) {
    const row = (rows[k] as string).replace(/\r$/, "");
    try {
      records.push(JSON.parse(row));
    } catch (e) {
      throw malformed(`line ${k + 1} is not valid JSON`, e, row, k + 1);
    }
    lines.push(k + 1);
  }
  return { records, lines };
}

/**
 * Parses the records of an ingest body by its content type: `application/json`
 * (or `*+json`, or none) as one JSON array; `application/x-ndjson` and
 * `application/jsonl` as one JSON value per line. Other types: 415.
 */
export function parseRecords(event: APIGatewayProxyEventV2, text: string, maxRecords: number): ParsedRecords {
  const { type, charset } = mediaType(event);
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new HttpError(415, "unsupported-media-type", `charset '${charset}' is not supported: send UTF-8`);
  }
  const ndjson = type !== undefined && NDJSON_TYPES.has(type);
  if (type !== undefined && !ndjson && type !== "application/json" && !type.endsWith("+json")) {
    throw new HttpError(
      415,
      "unsupported-media-type",
      `content-type '${type}' is not supported: send application/json (a JSON array of records) or ` +
        "application/x-ndjson or application/jsonl (one JSON record per line)",
      { details: { supported: ["application/json", "application/x-ndjson", "application/jsonl"] } },
    );
  }
  if (text.trim() === "") throw new HttpError(400, "empty-body", "request body is empty: send at least one record");
  return ndjson ? parseNdjson(text, maxRecords) : parseArray(text, maxRecords);
}

/** One record that failed its schema. */
export interface RecordError {
  readonly record: number;
  readonly line?: number;
  readonly message: string;
}

/**
 * Validates every record against `schema` and returns the validated values (the
 * schema's output, e.g. with defaults applied), in order. When any record fails,
 * throws a 422 naming the first one and listing up to {@link MAX_REPORTED_ERRORS}.
 */
export async function validateRecords(
  schema: StandardSchemaV1 | undefined,
  parsed: ParsedRecords,
  source: string,
): Promise<unknown[]> {
  if (schema === undefined) return parsed.records;
  const values: unknown[] = [];
  const errors: RecordError[] = [];
  let invalid = 0;
  for (let i = 0; i < parsed.records.length; i++) {
    let result = schema["~standard"].validate(parsed.records[i]) as StandardResult<unknown>;
    if (result instanceof Promise) result = await result;
    if (result.issues === undefined) {
      values.push(result.value);
      continue;
    }
    invalid++;
    if (errors.length < MAX_REPORTED_ERRORS) {
      const line = parsed.lines?.[i];
      errors.push({
        record: i,
        ...(line === undefined ? {} : { line }),
        message: `${i}: ${describeIssues(result.issues)}`,
      });
    }
  }
  const first = errors[0];
  if (first === undefined) return values;
  throw new HttpError(422, "schema-mismatch", first.message, {
    details: {
      record: first.record,
      ...(first.line === undefined ? {} : { line: first.line }),
      source,
      invalid,
      errors,
    },
  });
}
