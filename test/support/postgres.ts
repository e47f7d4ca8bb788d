/** A throwaway Postgres for tests: the launcher lives in `functions/local/postgres-local.ts` (the benchmark uses it too). */
export { type PostgresServer, postgresBinDir, startPostgres } from "../../functions/local/postgres-local.ts";
