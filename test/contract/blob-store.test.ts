/**
 * Runs the blob-store contract against the in-memory store and against S3BlobStore
 * on fauxqs's S3 (an in-process emulator started once for this file, on 127.0.0.1).
 */

import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll } from "vitest";
import { InMemoryBlobStore } from "../../core/memory/in-memory-blob-store.ts";
import { ensureBucket, S3BlobStore, s3Client } from "../../functions/aws/s3-blob-store.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";
import { blobStoreContract } from "./blob-store.contract.ts";

blobStoreContract("InMemoryBlobStore", async () => ({ store: new InMemoryBlobStore(), prefix: "" }));

// Started on first use from a test (not in beforeAll), so a server that cannot start fails every test.
let started: Promise<{ server: LocalSqs; client: S3Client }> | undefined;
let n = 0;
afterAll(async () => {
  const s = await started?.catch(() => undefined);
  s?.client.destroy();
  await s?.server.stop();
});

blobStoreContract("S3BlobStore (fauxqs)", async () => {
  started ??= startLocalSqs().then(async (server) => {
    const client = s3Client(server.endpoint);
    await ensureBucket(client, "riffle-contract");
    await ensureBucket(client, "riffle-contract"); // idempotent
    return { server, client };
  });
  const { client } = await started;
  return { store: new S3BlobStore(client, "riffle-contract"), prefix: `run${++n}/` };
});
