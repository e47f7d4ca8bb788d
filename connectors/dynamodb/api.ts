/**
 * The DynamoDB and DynamoDB Streams calls the CDC source makes, behind an
 * interface so that a test can answer them (a fake stream whose shards split),
 * and their implementation on the AWS SDK. Items are in wire form (`wire.ts`).
 */
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { type AwsClientConfig, clientConfigFor } from "../../functions/aws/client-config.ts";
import type { StreamRecordLite } from "./changes.ts";
import { fromWire, toWire, type WireItem } from "./wire.ts";

/** What the source needs of a table. */
export interface TableShape {
  /** The key attributes: the partition key, then the sort key if any. */
  readonly keys: string[];
  readonly streamArn?: string;
  /** `NEW_AND_OLD_IMAGES`, `NEW_IMAGE`, `OLD_IMAGE` or `KEYS_ONLY`; undefined without a stream. */
  readonly viewType?: string;
}

/** One shard of a stream. */
export interface ShardInfo {
  readonly id: string;
  readonly parent?: string;
  /** True when the shard is closed (it has an ending sequence number). */
  readonly closed: boolean;
}

/** One page of records of a shard; `next` is missing once a closed shard is read to its end. */
export interface RecordsPage {
  readonly records: StreamRecordLite[];
  readonly next?: string;
}

/** The calls of the CDC source. */
export interface DynamoCdcApi {
  describeTable(table: string): Promise<TableShape>;
  /** One page of segment `segment` of `total`, after `startKey`, strongly consistent. */
  scan(
    table: string,
    segment: number,
    total: number,
    startKey: WireItem | undefined,
    limit: number,
  ): Promise<{ items: WireItem[]; lastKey?: WireItem }>;
  /** Every shard of the stream (all pages of DescribeStream). */
  shards(streamArn: string): Promise<ShardInfo[]>;
  /** An iterator after `afterSequence`, or at the oldest record kept (TRIM_HORIZON) when null. */
  iterator(streamArn: string, shard: string, afterSequence: string | null): Promise<string>;
  records(iterator: string, limit: number): Promise<RecordsPage>;
  close(): void;
}

/**
 * How to reach DynamoDB. Credentials come from the SDK's default chain; with an
 * `endpoint` (DynamoDB Local) and no `AWS_ACCESS_KEY_ID`, dummy ones.
 */
export interface DynamoEndpoint {
  /** e.g. `http://127.0.0.1:8000` for DynamoDB Local. Default `AWS_ENDPOINT_URL`, else AWS's. */
  readonly endpoint?: string;
  /** Default `AWS_REGION`, else us-east-1. */
  readonly region?: string;
}

/**
 * The SDK client configuration for `where`: riffle's one rule (request timeouts
 * included), with the endpoint a user's, which may be AWS's own.
 */
export function clientConfig(where: DynamoEndpoint): AwsClientConfig {
  return clientConfigFor({ endpoint: where.endpoint, region: where.region, userEndpoint: true });
}

const lite = (r: _Record): StreamRecordLite => {
  const d = r.dynamodb ?? {};
  return {
    eventName: r.eventName as StreamRecordLite["eventName"],
    sequenceNumber: d.SequenceNumber ?? "",
    keys: toWire(d.Keys ?? {}),
    newImage: d.NewImage ? toWire(d.NewImage) : undefined,
    oldImage: d.OldImage ? toWire(d.OldImage) : undefined,
  };
};

/** The calls on the AWS SDK. */
export function sdkCdcApi(where: DynamoEndpoint): DynamoCdcApi {
  const config = clientConfig(where);
  const db = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  return {
    async describeTable(table) {
      const t = (await db.send(new DescribeTableCommand({ TableName: table }))).Table;
      const keys = [...(t?.KeySchema ?? [])]
        .sort((a, b) => (a.KeyType === "HASH" ? -1 : b.KeyType === "HASH" ? 1 : 0))
        .map((k) => k.AttributeName ?? "");
      const on = t?.StreamSpecification?.StreamEnabled;
      return { keys, streamArn: on ? t?.LatestStreamArn : undefined, viewType: t?.StreamSpecification?.StreamViewType };
    },
    async scan(table, segment, total, startKey, limit) {
      const r = await db.send(
        new ScanCommand({
          TableName: table,
          Segment: segment,
          TotalSegments: total,
          ExclusiveStartKey: startKey ? fromWire(startKey) : undefined,
          Limit: limit,
          ConsistentRead: true,
        }),
      );
      return {
        items: (r.Items ?? []).map(toWire),
        lastKey: r.LastEvaluatedKey ? toWire(r.LastEvaluatedKey) : undefined,
      };
    },
    async shards(streamArn) {
      const out: ShardInfo[] = [];
      let start: string | undefined;
      do {
        const d = (
          await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }))
        ).StreamDescription;
        for (const s of d?.Shards ?? [])
          out.push({
            id: s.ShardId ?? "",
            parent: s.ParentShardId,
            closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
          });
        start = d?.LastEvaluatedShardId;
      } while (start);
      return out;
    },
    async iterator(streamArn, shard, afterSequence) {
      const r = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard,
          ...(afterSequence === null
            ? { ShardIteratorType: "TRIM_HORIZON" }
            : { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: afterSequence }),
        }),
      );
      if (!r.ShardIterator) throw new Error(`GetShardIterator gave no iterator for shard ${shard}`);
      return r.ShardIterator;
    },
    async records(iterator, limit) {
      const r = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      return { records: (r.Records ?? []).map(lite), next: r.NextShardIterator ?? undefined };
    },
    close() {
      db.destroy();
      streams.destroy();
    },
  };
}
