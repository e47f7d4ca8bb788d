/**
 * riffle's Postgres connectors: a CDC source (`postgresCdc`) and an exactly-once
 * upsert sink (`postgresSink`). Import them from `riffle/postgres`; importing it
 * also registers the SQL connectors `postgres-cdc` and `postgres` (`sql.ts`).
 */
import "./sql.ts";

export type { CdcPosition } from "./cdc-reader.ts";
export { type PostgresCdcOptions, postgresCdc } from "./cdc-source.ts";
export type { ChangeRecord, RowKind } from "./changes.ts";
export { PostgresConnectorError, PostgresSetupError } from "./errors.ts";
export { type PostgresSinkOptions, type PostgresSinkTxn, postgresSink } from "./sink.ts";
export { type CdcSlotStatus, cdcSlotStatus, dropCdcSlot } from "./slots.ts";
