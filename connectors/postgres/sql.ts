/**
 * The Postgres connectors of riffle SQL, registered when `riffle/postgres` is
 * imported (`riffle sql` imports it):
 *
 * - `'connector' = 'postgres-cdc'`: {@link postgresCdc} as a changelog table. Options
 *   `url`, `table-name`, `slot.name`, `publication.name`,
 *   `scan.incremental.snapshot.chunk.size`, `scan.startup.mode` (`initial`: snapshot
 *   then stream, the default; `latest-offset`: stream only), `scan.until-lsn` (end
 *   there, bounded).
 * - `'connector' = 'postgres'`: {@link postgresSink}, exactly-once upserts by the
 *   table's `PRIMARY KEY (…) NOT ENFORCED`. Options `url`, `table-name` (default the
 *   SQL table's name), `sink.progress-table`.
 */
import { registerSqlConnector } from "../../core/sql/connector-registry.ts";
import { checkOptions, snapshotFirst } from "../shared/sql-options.ts";
import { postgresCdc } from "./cdc-source.ts";
import { postgresSink } from "./sink.ts";

const CDC_OPTIONS = [
  "url",
  "table-name",
  "slot.name",
  "publication.name",
  "scan.incremental.snapshot.chunk.size",
  "scan.startup.mode",
  "scan.until-lsn",
];

registerSqlConnector("postgres-cdc", {
  source(table) {
    const o = table.options;
    checkOptions("postgres-cdc", o, CDC_OPTIONS, ["url", "table-name", "slot.name"]);
    const chunk = o["scan.incremental.snapshot.chunk.size"];
    return postgresCdc({
      url: o.url as string,
      table: o["table-name"] as string,
      slot: o["slot.name"] as string,
      snapshot: snapshotFirst(o),
      ...(o["publication.name"] ? { publication: o["publication.name"] } : {}),
      ...(chunk !== undefined ? { chunkSize: Number(chunk) } : {}),
      ...(o["scan.until-lsn"] ? { until: o["scan.until-lsn"] } : {}),
    });
  },
});

registerSqlConnector("postgres", {
  sink(table) {
    const o = table.options;
    checkOptions("postgres", o, ["url", "table-name", "sink.progress-table"], ["url"]);
    return postgresSink({
      url: o.url as string,
      table: o["table-name"] ?? table.name,
      key: table.primaryKey ?? [],
      ...(o["sink.progress-table"] ? { progressTable: o["sink.progress-table"] } : {}),
    });
  },
});
