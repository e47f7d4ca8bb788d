/**
 * `dynamodbCdc(...)`: a source of a DynamoDB table's changelog, a strongly
 * consistent parallel scan followed by the table's stream (see `cdc-reader.ts`).
 */
import type { Source } from "../../core/api/source.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { type DynamoCdcApi, type DynamoEndpoint, sdkCdcApi } from "./api.ts";
import { DynamoCdcReader } from "./cdc-reader.ts";
import type { DynamoChange } from "./changes.ts";

/** Options of {@link dynamodbCdc}. */
export interface DynamoCdcOptions extends DynamoEndpoint {
  /** The table; its stream must be enabled with `NEW_AND_OLD_IMAGES` (or `NEW_IMAGE`). */
  readonly table: string;
  /** Scan segments (`TotalSegments`), scanned in parallel (default 4). */
  readonly segments?: number;
  /** The most items one scan request of a segment reads (default 1000); smaller pages spread the scan's reads over time. */
  readonly scanLimit?: number;
  /** False to skip the scan and only stream changes from the source's first start (default true). */
  readonly snapshot?: boolean;
  /**
   * End the source once the scan is done and every shard of the stream was read to
   * its end (a read of each open shard returned nothing): for tests and one-off
   * copies of a table that no longer changes. The source is unbounded without it.
   */
  readonly stopAtEnd?: boolean;
  /** How long an idle stream waits before it is read again, in ms (default 100). */
  readonly pollMs?: number;
  /** How often the shard list is read again (DescribeStream), in ms (default 1000). */
  readonly describeEveryMs?: number;
  /** The calls to DynamoDB (tests answer them); default: the AWS SDK at `endpoint`/`region`. */
  readonly api?: () => DynamoCdcApi;
}

const positiveInt = (name: string, v: number) => {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new JobDefinitionError(`dynamodbCdc: ${name} must be a positive integer, got ${v}`);
  return v;
};

/**
 * The changelog of a DynamoDB table: `{ kind: "+I" | "-U" | "+U" | "-D", row, key }`
 * with items in DynamoDB's wire form. The first read records where the table's
 * stream ends, then scans the table (strongly consistent, `segments` in parallel),
 * then reads the stream from the recorded place, a child shard only after its
 * parent. An upsert of the changelog by key ends equal to the table. Scan progress
 * and each shard's sequence number are the source's position in riffle's
 * checkpoints. One split (one partition passes the changes on, in order).
 *
 * @example
 * ```ts
 * env.fromSource(dynamodbCdc({ table: "orders" })).keyBy(changeKey)
 * ```
 */
export function dynamodbCdc(options: DynamoCdcOptions): Source<DynamoChange> {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(options.table))
    throw new JobDefinitionError(`dynamodbCdc: '${options.table}' is not a DynamoDB table name`);
  const reader = {
    table: options.table,
    segments: positiveInt("segments", options.segments ?? 4),
    scanLimit: positiveInt("scanLimit", options.scanLimit ?? 1000),
    snapshot: options.snapshot ?? true,
    stopAtEnd: options.stopAtEnd ?? false,
    pollMs: positiveInt("pollMs", options.pollMs ?? 100),
    describeEveryMs: positiveInt("describeEveryMs", options.describeEveryMs ?? 1000),
  };
  const api = options.api ?? (() => sdkCdcApi(options));
  return {
    name: "dynamodb-cdc",
    bounded: reader.stopAtEnd,
    fixedParallelism: 1,
    splits: () => [{ id: options.table }],
    reader: (_split, position, context) => new DynamoCdcReader(reader, api, position, context),
  };
}
