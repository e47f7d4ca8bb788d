/**
 * riffle's SQL layer (`riffle/sql`): Flink SQL scripts planned into riffle jobs.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { sqlJob } from "riffle/sql";
 *
 * export default sqlJob("busy-auctions", readFileSync("examples/sql/busy-auctions.sql", "utf8"));
 * ```
 * @packageDocumentation
 */
export type * from "./ast.ts";
export { type ChangeRecord, foldChangelog } from "./changelog.ts";
export {
  type ConnectorTable,
  registerSqlConnector,
  type SqlConnector,
} from "./connector-registry.ts";
export { type Pos, SqlError, type SqlErrorKind } from "./errors.ts";
export type { ChangelogMode, Rel, RowKind, TableDef } from "./logical.ts";
export { parseSql } from "./parser.ts";
export { explain, type PlannedInsert, planSql, type SqlProgram, SqlSession, sqlJob } from "./session.ts";
export { StreamTableEnvironment, Table } from "./table-env.ts";
export type { ScalarFunction } from "./udf.ts";
