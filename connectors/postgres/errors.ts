/**
 * Errors of the Postgres connectors. A setup mistake (wal_level not logical, a
 * table without a primary key, a role without REPLICATION, a bad connection
 * string) fails the job at once with one line naming the fix; a server that is
 * down or a broken connection is retried like any other infrastructure error.
 */
import { JobCodeError, RiffleError } from "../../core/errors.ts";

/** A mistake in the connector's setup that no retry fixes. */
export class PostgresSetupError extends JobCodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("postgres-setup", message, options);
  }
}

/** A failure talking to Postgres that a retry may fix. */
export class PostgresConnectorError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("postgres", message, { ...options, retryable: true });
  }
}

/** The SQLSTATE of a `pg` error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * `error` from `doing` as a riffle error: the SQLSTATEs of a setup mistake become a
 * {@link PostgresSetupError} naming the fix, anything else a retryable
 * {@link PostgresConnectorError}.
 */
export function postgresError(doing: string, error: unknown): RiffleError {
  if (error instanceof RiffleError) return error;
  const msg = error instanceof Error ? error.message : String(error);
  const code = sqlState(error);
  if (code === "42501")
    return new PostgresSetupError(
      `${doing}: permission denied (${msg}); CDC needs a role with REPLICATION (ALTER ROLE … REPLICATION) that owns or may read the table`,
      { cause: error },
    );
  if (code === "28P01" || code === "28000" || code === "3D000")
    return new PostgresSetupError(`${doing}: ${msg}; check the connection string's user, password and database`, {
      cause: error,
    });
  if (code === "42P01") return new PostgresSetupError(`${doing}: ${msg}; create the table first`, { cause: error });
  if (error instanceof TypeError && /Invalid URL|url/i.test(msg))
    return new PostgresSetupError(`${doing}: bad connection string (${msg})`, { cause: error });
  return new PostgresConnectorError(`${doing}: ${msg}`, { cause: error });
}
