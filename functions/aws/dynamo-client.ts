/**
 * DynamoDB plumbing shared by the DynamoDB adapters: the client factory, the table
 * names and their creation, and `dynamoCall`, which turns every SDK failure into a
 * {@link RiffleError} with a precise message. Batch and chunk helpers live in
 * `dynamo-batch.ts` and `dynamo-chunks.ts`. See docs/AWS-TABLES.md for the layout.
 */

import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { awsClientConfig, CALL_TIMEOUTS, type RequestTimeouts } from "./client-config.ts";

/** The tables of a riffle deployment; every job shares them (items are keyed by job). */
export interface TableNames {
  /** Segment logs: segments, void markers, compaction tombstones, partition bases. */
  readonly log: string;
  /** Keyed state folded by compaction (base values) and the per-task key-group registry. */
  readonly state: string;
  /** Job records, checkpoint manifests, acks, finished reports, savepoints. */
  readonly checkpoints: string;
  /** The ingest log of HTTP sources: per-partition head counters and records. */
  readonly ingest: string;
  /** Committed sink output, dead letters and published marks. */
  readonly output: string;
}

/** Table names `<prefix>-log`, `<prefix>-state`, `<prefix>-checkpoints`, `<prefix>-ingest`, `<prefix>-output`. */
export function tableNames(prefix = "riffle"): TableNames {
  return {
    log: `${prefix}-log`,
    state: `${prefix}-state`,
    checkpoints: `${prefix}-checkpoints`,
    ingest: `${prefix}-ingest`,
    output: `${prefix}-output`,
  };
}

/** Attribute that holds the expiry (epoch seconds) of items DynamoDB may delete by TTL. */
export const TTL_ATTRIBUTE = "exp";

/**
 * Builds a DynamoDB client for region `AWS_REGION` (default us-east-1). The endpoint is
 * `endpoint` or `AWS_ENDPOINT_URL`; with a custom endpoint and no `AWS_ACCESS_KEY_ID`,
 * dummy credentials are used (local emulators do not check them). A request unanswered
 * after `timeouts` fails and is retried (see {@link awsClientConfig}).
 */
export function dynamoClient(endpoint?: string, timeouts: RequestTimeouts = CALL_TIMEOUTS): DynamoDBClient {
  return new DynamoDBClient(awsClientConfig(endpoint, timeouts));
}

/**
 * The document client the adapters use over `client`: plain JS values in and out,
 * `undefined` attributes dropped, binaries as `Uint8Array`.
 */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

/** Options of {@link ensureTables}. */
export interface EnsureTablesOptions {
  /** Longest wait for a table to become active, in seconds (default 120). */
  readonly maxWaitSeconds?: number;
}

/**
 * Creates every table of `names` that does not exist yet (key `pk` string + `sk`
 * string, on-demand billing), waits until all are active, and enables TTL on the
 * `exp` attribute of the log table (compaction tombstones expire). Idempotent.
 */
export async function ensureTables(
  client: DynamoDBClient,
  names: TableNames,
  options: EnsureTablesOptions = {},
): Promise<void> {
  const tables = [names.log, names.state, names.checkpoints, names.ingest, names.output];
  await Promise.all(
    tables.map(async (TableName) => {
      try {
        await client.send(
          new CreateTableCommand({
            TableName,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
              { AttributeName: "pk", AttributeType: "S" },
              { AttributeName: "sk", AttributeType: "S" },
            ],
            KeySchema: [
              { AttributeName: "pk", KeyType: "HASH" },
              { AttributeName: "sk", KeyType: "RANGE" },
            ],
          }),
        );
      } catch (e) {
        if (errorName(e) !== "ResourceInUseException") throw wrapError(`CreateTable ${TableName}`, e);
      }
      const maxWaitTime = options.maxWaitSeconds ?? 120;
      await dynamoCall(`wait for table ${TableName} to become active`, () =>
        waitUntilTableExists({ client, maxWaitTime, minDelay: 1, maxDelay: 5 }, { TableName }),
      );
    }),
  );
  const ttl = await dynamoCall(`DescribeTimeToLive ${names.log}`, () =>
    client.send(new DescribeTimeToLiveCommand({ TableName: names.log })),
  );
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== "ENABLED" && status !== "ENABLING") {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: names.log,
          TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
        }),
      );
    } catch (e) {
      // A concurrent ensureTables may have enabled it first.
      if (!/already enabled/i.test(e instanceof Error ? e.message : ""))
        throw wrapError(`enable TTL on ${names.log}`, e);
    }
  }
}

/** SDK errors that running the same request again cannot fix. */
const PERMANENT = new Set([
  "ValidationException",
  "ResourceNotFoundException",
  "ConditionalCheckFailedException",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "SerializationException",
  "ItemCollectionSizeLimitExceededException",
  "TransactionCanceledException",
]);

/** The SDK error name of `e` (`undefined` for a non-error). */
export function errorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

/** A DynamoDB request failed; `retryable` unless the request itself is invalid. */
export class DynamoCallError extends RiffleError {
  /** The SDK error name (e.g. `ProvisionedThroughputExceededException`). */
  readonly sdkError: string | undefined;
  constructor(what: string, cause: unknown) {
    const name = errorName(cause);
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super("dynamo-call-failed", `DynamoDB ${what} failed: ${detail}`, {
      cause,
      retryable: name === undefined || !PERMANENT.has(name),
    });
    this.sdkError = name;
  }
}

function wrapError(what: string, e: unknown): RiffleError {
  return e instanceof RiffleError ? e : new DynamoCallError(what, e);
}

/** Runs one SDK call; any failure becomes a {@link DynamoCallError} that says `what` failed. */
export async function dynamoCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw wrapError(what, e);
  }
}

/**
 * Runs one conditional write. Resolves `{ ok: true }`, or `{ ok: false, old }` when
 * the condition failed (`old`: the item as it is, raw attribute values, when the
 * request asked for `ReturnValuesOnConditionCheckFailure: "ALL_OLD"`). Every other
 * failure throws a {@link DynamoCallError}.
 */
export async function conditionalCall(
  what: string,
  fn: () => Promise<unknown>,
): Promise<{ ok: true } | { ok: false; old: RawItem | undefined }> {
  try {
    await fn();
    return { ok: true };
  } catch (e) {
    if (errorName(e) === "ConditionalCheckFailedException") {
      return { ok: false, old: (e as { Item?: RawItem }).Item };
    }
    throw wrapError(what, e);
  }
}

/** An item in DynamoDB's own attribute-value encoding (what a failed condition returns). */
export type RawItem = Record<string, { S?: string; N?: string; B?: Uint8Array } | undefined>;

/** One cancellation reason of a failed transaction. */
export interface CancellationReason {
  readonly Code?: string;
  readonly Message?: string;
  readonly Item?: RawItem;
}

/**
 * Runs one TransactWriteItems. Resolves `{ ok: true }`, or `{ ok: false, reasons }`
 * when DynamoDB cancelled it (one reason per item, `Code` "None" for the innocent
 * ones). Every other failure throws a {@link DynamoCallError}.
 */
export async function transactCall(
  what: string,
  fn: () => Promise<unknown>,
): Promise<{ ok: true } | { ok: false; reasons: CancellationReason[] }> {
  try {
    await fn();
    return { ok: true };
  } catch (e) {
    if (errorName(e) === "TransactionCanceledException") {
      return { ok: false, reasons: (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [] };
    }
    throw wrapError(what, e);
  }
}

/** Waits `ms` plus up to 50% random jitter. */
export function backoff(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms * (1 + Math.random() / 2)));
}

/** Rejects names that would make item keys ambiguous (they are joined with `#`). */
export function keyPart(what: string, value: string): string {
  if (value.length === 0 || value.includes("#")) {
    throw new RiffleError(
      "dynamo-key",
      `${what} '${value}' cannot be used in a DynamoDB key: it must be non-empty and contain no '#'`,
    );
  }
  return value;
}

/** `n` zero-padded to 12 digits, so that string order is numeric order in sort keys. */
export function pad(n: number, width = 12): string {
  return String(n).padStart(width, "0");
}
