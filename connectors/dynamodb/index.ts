/**
 * riffle's DynamoDB connectors: a CDC source (`dynamodbCdc`, a parallel scan then
 * DynamoDB Streams) and an exactly-once table sink (`dynamodbSink`). Import them
 * from `riffle/dynamodb`; importing it also registers the SQL connectors
 * `dynamodb-cdc` and `dynamodb` (`sql.ts`).
 */
import "./sql.ts";

export type { DynamoCdcApi, DynamoEndpoint, RecordsPage, ShardInfo, TableShape } from "./api.ts";
export type { DynamoCdcPosition } from "./cdc-reader.ts";
export { type DynamoCdcOptions, dynamodbCdc } from "./cdc-source.ts";
export { changeKey, type DynamoChange, type StreamRecordLite } from "./changes.ts";
export { DynamoConnectorError, DynamoSetupError } from "./errors.ts";
export { type DynamoSinkOptions, type DynamoSinkTxn, dynamodbSink } from "./sink.ts";
export { fromWire, toWire, type WireItem, type WireValue } from "./wire.ts";
