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
import { JobDefinitionError } from "../../core/errors.ts";
import { registerSqlConnector } from "../../core/sql/connector-registry.ts";
import { postgresCdc } from "./cdc-source.ts";
import { postgresSink } from "./sink.ts";

type Options = Readonly<Record<string, string>>;

/** Checks that `options` holds only `known` keys (and `connector`) and has `required` ones. */
function check(connector: string, options: Options, known: readonly string[], required: readonly string[]): void {
  for (const k of Object.keys(options))
    if (k !== "connector" && !known.includes(k))
      throw new JobDefinitionError(`the ${connector} connector has no option '${k}' (it takes ${known.join(", ")})`);
  for (const k of required)
    if (options[k] === undefined) throw new JobDefinitionError(`the ${connector} connector needs option '${k}'`);
}

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
    check("postgres-cdc", o, CDC_OPTIONS, ["url", "table-name", "slot.name"]);
    const mode = o["scan.startup.mode"] ?? "initial";
    if (mode !== "initial" && mode !== "latest-offset")
      throw new JobDefinitionError(`'scan.startup.mode' must be 'initial' or 'latest-offset', got '${mode}'`);
    const chunk = o["scan.incremental.snapshot.chunk.size"];
    return postgresCdc({
      url: o.url as string,
      table: o["table-name"] as string,
      slot: o["slot.name"] as string,
      snapshot: mode === "initial",
      ...(o["publication.name"] ? { publication: o["publication.name"] } : {}),
      ...(chunk !== undefined ? { chunkSize: Number(chunk) } : {}),
      ...(o["scan.until-lsn"] ? { until: o["scan.until-lsn"] } : {}),
    });
  },
});

registerSqlConnector("postgres", {
  sink(table) {
    const o = table.options;
    check("postgres", o, ["url", "table-name", "sink.progress-table"], ["url"]);
    return postgresSink({
      url: o.url as string,
      table: o["table-name"] ?? table.name,
      key: table.primaryKey ?? [],
      ...(o["sink.progress-table"] ? { progressTable: o["sink.progress-table"] } : {}),
    });
  },
});
