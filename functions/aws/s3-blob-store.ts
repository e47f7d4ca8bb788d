/**
 * The {@link BlobStore} port on S3: one bucket, keys under a job's prefix. Used for
 * segment payloads (`core/log/payload.ts`). DeleteObject is free on S3, a PUT or a
 * LIST costs $0.005 per 1,000 and a GET $0.0004 per 1,000, so the store deletes
 * one key per request and lists only to sweep orphans.
 */

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { RiffleError } from "../../core/errors.ts";
import type { BlobStore } from "../../core/ports/blob-store.ts";
import { awsClientConfig, CALL_TIMEOUTS } from "./client-config.ts";
import { mapLimit } from "./dynamo-batch.ts";

/** Deletes in flight at once. */
const PARALLEL_DELETES = 16;

/**
 * An S3 client: the SDK's endpoint (env `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`,
 * else AWS), or `endpoint` (an emulator: path-style URLs and dummy credentials, as
 * the SQS and DynamoDB clients use locally).
 */
export function s3Client(endpoint?: string): S3Client {
  const config = awsClientConfig(endpoint, CALL_TIMEOUTS, ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]);
  return new S3Client({ ...config, ...(config.endpoint !== undefined ? { forcePathStyle: true } : {}) });
}

/** An S3 request failed (other than a missing key where that is an answer). */
export class S3CallError extends RiffleError {
  constructor(what: string, cause: unknown) {
    super("s3-call", `${what} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause, retryable: true });
  }
}

async function s3Call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new S3CallError(what, e);
  }
}

const missing = (e: unknown) => {
  const name = (e as { name?: string })?.name;
  return (
    name === "NoSuchKey" ||
    name === "NotFound" ||
    (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404
  );
};

/** Objects in one S3 bucket. */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await s3Call(`PutObject of ${key} in ${this.bucket}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes })),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (missing(e)) return undefined;
      throw new S3CallError(`GetObject of ${key} in ${this.bucket}`, e);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    await mapLimit(keys, PARALLEL_DELETES, (key) =>
      s3Call(`DeleteObject of ${key} in ${this.bucket}`, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      ),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await s3Call(`ListObjectsV2 of ${prefix} in ${this.bucket}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }
}

/** The segment bucket of a local deployment with table prefix `prefix` (S3's naming rules: lower case, 3–63 characters). */
export function localBucketName(prefix: string): string {
  const name = `${prefix}-segments`.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
  return name.length > 63 ? name.slice(0, 63).replace(/[.-]+$/, "") : name;
}

/** Creates `bucket` unless it exists (local runs; on AWS the stack creates it). */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const name = (e as { name?: string })?.name;
    if (name === "BucketAlreadyOwnedByYou" || name === "BucketAlreadyExists") return;
    throw new S3CallError(`CreateBucket of ${bucket}`, e);
  }
}
