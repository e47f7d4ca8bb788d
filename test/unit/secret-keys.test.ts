/**
 * The deployed API function's keys, read from Secrets Manager at run time
 * (`functions/aws/secret-keys.ts`), against a stub client: the request it sends,
 * the cache (one read per TTL, shared by concurrent callers, failures not kept),
 * and the HTTP API authenticating with it (a failed read is a 503, never an open API).
 */

import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { RiffleError } from "../../core/errors.ts";
import {
  cached,
  DEFAULT_SECRET_TTL_MS,
  type SecretsManagerLike,
  secretApiKeys,
  secretsManagerReader,
} from "../../functions/aws/secret-keys.ts";
import { createHttpApi } from "../../functions/http/api.ts";
import { event } from "../support/http-api-events.ts";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiKeys-AbCdEf";

/** A Secrets Manager stub answering from `value` (a function, so tests can change or fail it). */
function stub(value: () => string | undefined | Error) {
  const calls: GetSecretValueCommand[] = [];
  const client: SecretsManagerLike = {
    async send(command) {
      calls.push(command);
      await new Promise((r) => setTimeout(r, 5));
      const v = value();
      if (v instanceof Error) throw v;
      return v === undefined ? {} : { SecretString: v };
    },
  };
  return { client, calls };
}

describe("secretsManagerReader", () => {
  it("sends GetSecretValue for the secret and answers its string", async () => {
    const { client, calls } = stub(() => "k1,k2");
    expect(await secretsManagerReader(client)(ARN)).toBe("k1,k2");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(calls[0]?.input).toEqual({ SecretId: ARN });
  });

  it("turns a failed call into a retryable RiffleError and a binary secret into a non-retryable one", async () => {
    const failing = secretsManagerReader(stub(() => new Error("throttled")).client);
    const e1 = await failing(ARN).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(RiffleError);
    expect(e1).toMatchObject({ reason: "api-keys-unavailable", retryable: true });
    const binary = secretsManagerReader(stub(() => undefined).client);
    const e2 = await binary(ARN).catch((e: unknown) => e);
    expect(e2).toMatchObject({ reason: "api-keys-not-text", retryable: false });
  });
});

describe("cached", () => {
  it("reads once per TTL, shares one read among concurrent callers, and does not keep a failure", async () => {
    let t = 1_000;
    let reads = 0;
    let fail = false;
    const get = cached(
      async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error("down");
        return `v${reads}`;
      },
      { ttlMs: 100, now: () => t },
    );
    expect(await Promise.all([get(), get(), get()])).toEqual(["v1", "v1", "v1"]);
    t += 99;
    expect(await get()).toBe("v1");
    expect(reads).toBe(1);
    t += 1;
    fail = true;
    await expect(get()).rejects.toThrow("down");
    expect(reads).toBe(2);
    fail = false;
    expect(await get()).toBe("v3"); // the failure was not kept: read again at once
    expect(reads).toBe(3);
  });

  it("defaults to a one-minute TTL", async () => {
    let t = 0;
    let reads = 0;
    const get = cached(async () => ++reads, { now: () => t });
    await get();
    t = DEFAULT_SECRET_TTL_MS - 1;
    await get();
    expect(reads).toBe(1);
    t = DEFAULT_SECRET_TTL_MS;
    await get();
    expect(reads).toBe(2);
  });
});

describe("the HTTP API with keys from a secret", () => {
  it("accepts the secret's keys, picks up a rotation after the TTL, and answers 503 (not an open API) when the secret cannot be read", async () => {
    let t = 0;
    let value: string | Error = "old-key";
    const { client, calls } = stub(() => value);
    const keys = secretApiKeys(ARN, { reader: secretsManagerReader(client), ttlMs: 1_000, now: () => t });
    const api = createHttpApi({ jobs: () => undefined, credentials: keys, log: () => {} });
    const get = async (key: string) =>
      (await api(event({ path: "/jobs/nope", anonymous: true, headers: { "x-api-key": key } }))).statusCode;

    expect(await get("old-key")).toBe(404); // authenticated; no such job
    expect(await get("new-key")).toBe(401);
    value = "new-key, old-key";
    expect(await get("new-key")).toBe(401); // still cached
    t = 1_000;
    expect(await get("new-key")).toBe(404);
    expect(calls).toHaveLength(2);
    t = 2_000;
    value = new Error("unreachable");
    const res = await api(event({ path: "/jobs/nope", anonymous: true, headers: { "x-api-key": "new-key" } }));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(String(res.body)).error).toBe("api-keys-unavailable");
  });
});
