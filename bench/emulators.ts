/** One fauxqs and one DynamoDB Local for the benchmark's AWS parts. */

import { startDynamoLocal } from "../functions/local/dynamo-local.ts";
import { startLocalSqs } from "../functions/local/sqs-local.ts";

/** Endpoints of running emulators. */
export interface BenchEmulators {
  readonly sqs: string;
  readonly dynamo: string;
  stop(): Promise<void>;
}

/** How long DynamoDB Local may take to answer: a JVM's start on a shared, loaded machine can take a minute. */
const DYNAMO_READY_MS = 120_000;

/** Starts fauxqs (in process) and DynamoDB Local (Java 17) on free ports of 127.0.0.1. */
export async function startEmulators(): Promise<BenchEmulators> {
  const [sqs, ddb] = await Promise.all([startLocalSqs(), startDynamoLocal({ readyTimeoutMs: DYNAMO_READY_MS })]);
  return {
    sqs: sqs.endpoint,
    dynamo: ddb.endpoint,
    stop: async () => {
      await sqs.stop();
      await ddb.stop();
    },
  };
}

/** Runs `f` on `given` emulators, or on new ones that are stopped afterwards. */
export async function withEmulators<T>(
  given: BenchEmulators | undefined,
  f: (e: BenchEmulators) => Promise<T>,
): Promise<T> {
  if (given) return f(given);
  const e = await startEmulators();
  try {
    return await f(e);
  } finally {
    await e.stop();
  }
}
