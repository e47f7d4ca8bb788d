/**
 * The DynamoDB connectors of riffle SQL, registered when `riffle/dynamodb` is
 * imported (`riffle sql` imports it):
 *
 * - `'connector' = 'dynamodb-cdc'`: {@link dynamodbCdc} as a changelog table, its
 *   items as rows of plain values (see {@link plainOf}). Options `table-name`,
 *   `endpoint`, `region`, `scan.segments`, `scan.startup.mode` (`initial`: scan then
 *   stream, the default; `latest-offset`: stream only), `scan.stop-at-end` (`true`:
 *   bounded, ending once the stream is read to its end).
 * - `'connector' = 'dynamodb'`: {@link dynamodbSink}, exactly-once puts and deletes
 *   of rows as items (see {@link wireOf}), keyed by the table's `PRIMARY KEY (…) NOT
 *   ENFORCED` (the DynamoDB table's key attributes). Options `table-name` (default the
 *   SQL table's name), `endpoint`, `region`, `sink.progress-table`.
 */
import type { TwoPhaseCommitSink } from "../../core/api/two-phase-sink.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { registerSqlConnector } from "../../core/sql/connector-registry.ts";
import type { ChangeRecord } from "../shared/changelog.ts";
import { checkOptions, snapshotFirst } from "../shared/sql-options.ts";
import { dynamodbCdc } from "./cdc-source.ts";
import type { DynamoChange } from "./changes.ts";
import { type DynamoSinkTxn, dynamodbSink } from "./sink.ts";
import { pick, type WireItem, type WireValue } from "./wire.ts";

/** An attribute value as a plain value: numbers as numbers, sets as arrays, binary as base64, maps as objects. */
export function plainOf(v: WireValue): unknown {
  if ("S" in v) return v.S;
  if ("N" in v) return Number(v.N);
  if ("B" in v) return v.B;
  if ("SS" in v) return v.SS;
  if ("NS" in v) return v.NS.map(Number);
  if ("BS" in v) return v.BS;
  if ("M" in v) return Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, plainOf(x)]));
  if ("L" in v) return v.L.map(plainOf);
  if ("BOOL" in v) return v.BOOL;
  return null;
}

/** A plain value as an attribute value (`undefined` for a SQL NULL: the attribute is left out). */
export function wireOf(v: unknown): WireValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return { S: v };
  if (typeof v === "number" || typeof v === "bigint") return { N: String(v) };
  if (typeof v === "boolean") return { BOOL: v };
  if (Array.isArray(v)) return { L: v.flatMap((x) => wireOf(x) ?? { NULL: true }) };
  if (typeof v === "object") return { M: itemOf(v as Record<string, unknown>) };
  throw new JobDefinitionError(`dynamodb sink: a ${typeof v} cannot be an attribute value`);
}

function itemOf(row: Record<string, unknown>): WireItem {
  const out: Record<string, WireValue> = {};
  for (const [k, v] of Object.entries(row)) {
    const w = wireOf(v);
    if (w !== undefined) out[k] = w;
  }
  return out;
}

const CDC_OPTIONS = ["table-name", "endpoint", "region", "scan.segments", "scan.startup.mode", "scan.stop-at-end"];

registerSqlConnector("dynamodb-cdc", {
  source(table) {
    const o = table.options;
    checkOptions("dynamodb-cdc", o, CDC_OPTIONS, ["table-name"]);
    const inner = dynamodbCdc({
      table: o["table-name"] as string,
      snapshot: snapshotFirst(o),
      stopAtEnd: o["scan.stop-at-end"] === "true",
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.region ? { region: o.region } : {}),
      ...(o["scan.segments"] ? { segments: Number(o["scan.segments"]) } : {}),
    });
    const plain = (c: DynamoChange): ChangeRecord => ({
      kind: c.kind,
      row: Object.fromEntries(Object.entries(c.row).map(([k, v]) => [k, plainOf(v)])),
    });
    return {
      ...inner,
      reader: (split, position, context) => {
        const r = inner.reader(split, position, context);
        return {
          async read(max) {
            const chunk = await r.read(max);
            return { ...chunk, records: chunk.records.map(plain) };
          },
          ...(r.close ? { close: () => r.close?.() } : {}),
        };
      },
    };
  },
});

registerSqlConnector("dynamodb", {
  sink(table): TwoPhaseCommitSink<ChangeRecord, unknown> {
    const o = table.options;
    checkOptions("dynamodb", o, ["table-name", "endpoint", "region", "sink.progress-table"], []);
    const inner = dynamodbSink({
      table: o["table-name"] ?? table.name,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.region ? { region: o.region } : {}),
      ...(o["sink.progress-table"] ? { progressTable: o["sink.progress-table"] } : {}),
    });
    const key = table.primaryKey ?? [];
    const change = (c: ChangeRecord): DynamoChange => {
      const row = itemOf(c.row);
      return { kind: c.kind, row, key: pick(row, key) };
    };
    const sink: TwoPhaseCommitSink<ChangeRecord, DynamoSinkTxn> = {
      ...inner,
      invoke: (txn, values) => inner.invoke(txn, values.map(change)),
    };
    return sink as TwoPhaseCommitSink<ChangeRecord, unknown>;
  },
});
