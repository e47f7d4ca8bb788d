/**
 * Errors of the DynamoDB connectors. A setup mistake (a missing table, a table
 * without a stream or with a keys-only stream, no permission) fails the job at once
 * with one line naming the fix; throttling and a broken connection are retried
 * like any other infrastructure error.
 */
import { JobCodeError, RiffleError } from "../../core/errors.ts";

/** A mistake in the connector's setup that no retry fixes. */
export class DynamoSetupError extends JobCodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("dynamodb-setup", message, options);
  }
}

/** A failure talking to DynamoDB that a retry may fix. */
export class DynamoConnectorError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("dynamodb", message, { ...options, retryable: true });
  }
}

/** The exception name of an AWS SDK error (or of a worker's copy of one). */
export function awsErrorName(error: unknown): string | undefined {
  const e = error as { name?: unknown; code?: unknown } | null;
  return typeof e?.name === "string" && e.name !== "Error" ? e.name : typeof e?.code === "string" ? e.code : undefined;
}

/**
 * `error` from `doing` as a riffle error: the exceptions of a setup mistake become
 * a {@link DynamoSetupError} naming the fix, anything else a retryable
 * {@link DynamoConnectorError}.
 */
export function dynamoError(doing: string, error: unknown): RiffleError {
  if (error instanceof RiffleError) return error;
  const msg = error instanceof Error ? error.message : String(error);
  const name = awsErrorName(error);
  if (name === "ResourceNotFoundException")
    return new DynamoSetupError(`${doing}: ${msg}; create the table (with its stream, for a CDC source) first`, {
      cause: error,
    });
  if (name === "AccessDeniedException" || name === "UnrecognizedClientException")
    return new DynamoSetupError(`${doing}: ${msg}; grant the role the DynamoDB actions the connector calls`, {
      cause: error,
    });
  if (name === "TrimmedDataAccessException")
    return new DynamoSetupError(
      `${doing}: ${msg}; the stream dropped records (older than its 24 h retention) before riffle read them: restart the job without its state to snapshot again`,
      { cause: error },
    );
  if (name === "ValidationException") return new DynamoSetupError(`${doing}: ${msg}`, { cause: error });
  return new DynamoConnectorError(`${doing}: ${msg}`, { cause: error });
}
