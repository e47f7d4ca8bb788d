/**
 * Shared plumbing of the aws-local end-to-end tests: one fauxqs and one DynamoDB
 * Local per test file (started from a test's setup, so a missing emulator fails the
 * tests), a unique resource prefix per test, and readers for the committed output.
 */

import { afterAll, afterEach, expect } from "vitest";
import type { OutputStore } from "../../core/ports/output-store.ts";
import { type AwsLocal, type AwsLocalOptions, startAwsLocal } from "../../functions/local/aws-local.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";
import { sharedDynamoLocal, stopSharedDynamoLocal, uniquePrefix } from "./dynamo-local.ts";

/** The credential the tests' HTTP API accepts. */
export const API_KEY = "e2e-secret-key";

let fauxqs: Promise<LocalSqs> | undefined;

/** Endpoints of this file's emulators, started on first use. */
export async function emulators(): Promise<{ sqs: string; dynamo: string }> {
  fauxqs ??= startLocalSqs();
  const [q, d] = await Promise.all([fauxqs, sharedDynamoLocal()]);
  return { sqs: q.endpoint, dynamo: d.endpoint };
}

/** Stops this file's emulators (for `afterAll`). */
export async function stopEmulators(): Promise<void> {
  const q = await fauxqs?.catch(() => undefined);
  fauxqs = undefined;
  await q?.stop();
  await stopSharedDynamoLocal();
}

/** Starts a job on the emulators with fast coordinator waits and an HTTP API on a free port. */
export async function startJob(o: Omit<AwsLocalOptions, "sqsEndpoint" | "dynamoEndpoint">): Promise<AwsLocal> {
  const { sqs, dynamo } = await emulators();
  return startAwsLocal({
    prefix: uniquePrefix("e"),
    httpPort: 0,
    apiKeys: [API_KEY],
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 6,
    waitMs: { interval: 150, poll: 40 },
    ...o,
    sqsEndpoint: sqs,
    dynamoEndpoint: dynamo,
  });
}

/**
 * The aws-local jobs of one test file. Registers the hooks that stop the job a test
 * started (after each test, after `afterEachTest`) and this file's emulators (after
 * the file); `start` starts a job with {@link startJob} and keeps it for that hook.
 * Call once, at the top of the file.
 */
export function awsLocalJobs(afterEachTest?: () => void): {
  start(o: Parameters<typeof startJob>[0]): Promise<AwsLocal>;
} {
  let local: AwsLocal | undefined;
  afterEach(async () => {
    afterEachTest?.();
    await local?.stop();
    local = undefined;
  });
  afterAll(stopEmulators);
  return {
    async start(o) {
      local = await startJob(o);
      return local;
    },
  };
}

/** Every committed record of `sink`. */
export async function readOutput<T>(output: OutputStore, job: string, sink: string): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await output.read(job, sink, cursor === undefined ? {} : { cursor });
    all.push(...(page.values as T[]));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

/** Waits until `cond` holds, polling; fails with `what` (and `diagnose()`'s report) after `ms`. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 45_000,
  diagnose?: () => Promise<string>,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) {
      const report = diagnose ? `\n${await diagnose()}` : "";
      throw new Error(`timed out after ${ms} ms waiting for ${what}${report}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A compact picture of a job's stores: record, checkpoints, published marks, every partition's log. */
export async function describeJob(l: AwsLocal): Promise<string> {
  const job = l.plan.job;
  const lines = [`record ${JSON.stringify(await l.ports.checkpoints.loadJob(job))}`];
  const manifests = await l.ports.checkpoints.listManifests(job);
  lines.push(
    `checkpoints ${manifests.map((m) => `${m.id}/g${m.generation}/${m.status}${m.reason ? `(${m.reason})` : ""}`).join(" ")}`,
  );
  lines.push(`published ${JSON.stringify(await l.ports.output.publishedThrough(job))}`);
  for (const t of l.plan.tasks) {
    for (let p = 0; p < t.parallelism; p++) {
      const b = await l.ports.state.readBase(t.id, p);
      const segs = await l.ports.state.readSegments(t.id, p, b?.through ?? 0);
      const shown = segs.map(
        (x) =>
          `${x.n}/g${x.gen}${x.endsEpoch ? `/e${x.endsEpoch}` : ""}:${JSON.stringify(x.positions)}→${x.outbox.length}`,
      );
      lines.push(`${t.id}[${p}] base ${b?.through ?? 0} ${JSON.stringify(b?.positions ?? {})} | ${shown.join(" ")}`);
    }
  }
  lines.push(`status ${JSON.stringify(await l.control.status())}`);
  return lines.join("\n");
}

/** POSTs JSON to the job's HTTP API. */
export function api(
  base: string,
  path: string,
  init: { method?: string; body?: string; key?: string | null; type?: string } = {},
) {
  const headers: Record<string, string> = { "content-type": init.type ?? "application/json" };
  if (init.key !== null) headers["x-api-key"] = init.key ?? API_KEY;
  return fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

/** A click of the `clicks` example. */
export interface Click {
  user: string;
  page: string;
  ts: number;
}

/** `requests` batches of `size` clicks over `users` users, and the count each user must reach. */
export function clickBatches(
  requests: number,
  size: number,
  users = 6,
  from = 0,
): { batches: Click[][]; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const batches = Array.from({ length: requests }, (_, r) =>
    Array.from({ length: size }, (_, i) => {
      const k = from + r * size + i;
      const user = `u${(k * 7) % users}`;
      counts[user] = (counts[user] ?? 0) + 1;
      return { user, page: `/p/${k % 13}`, ts: k };
    }),
  );
  return { batches, counts };
}

/** Per user, the committed counts must be exactly 1..n: a duplicate or a loss shows. */
export function expectExactlyOnce(
  output: readonly { user: string; n: number }[],
  counts: Record<string, number>,
): void {
  const by: Record<string, number[]> = {};
  for (const o of output) by[o.user] = [...(by[o.user] ?? []), o.n];
  const got = Object.fromEntries(Object.entries(by).map(([u, ns]) => [u, ns.sort((a, b) => a - b)]));
  const want = Object.fromEntries(
    Object.entries(counts).map(([u, n]) => [u, Array.from({ length: n }, (_, i) => i + 1)]),
  );
  expect(got).toEqual(want);
}

/** Sum of counts. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
