/**
 * The HTTP API's keys from AWS Secrets Manager, read at run time. The deployed API
 * function's environment names the secret (`RIFFLE_API_KEYS_SECRET`, its ARN), never
 * its value; the function reads the value with `GetSecretValue` and keeps it for a
 * short time ({@link DEFAULT_SECRET_TTL_MS}), so a rotated key is picked up within
 * that time without a redeploy, and a warm function calls Secrets Manager about once
 * a minute.
 *
 * A failed read is never cached: the request fails with a retryable error (503 from
 * the API) and the next one reads again. Concurrent requests share one read.
 */

import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { RiffleError } from "../../core/errors.ts";
import { type CredentialSet, parseCredentials } from "../http/auth.ts";

/** How long a read secret is used before it is read again: one minute. */
export const DEFAULT_SECRET_TTL_MS = 60_000;

/** Reads the string value of the secret `secretId` (an ARN or a name). */
export type SecretReader = (secretId: string) => Promise<string>;

/** The part of a Secrets Manager client the reader uses (a stub in tests). */
export interface SecretsManagerLike {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string | undefined }>;
}

let defaultClient: SecretsManagerClient | undefined;

/** One client per container, for the function's own region and credentials. */
function defaultSecretsManager(): SecretsManagerClient {
  defaultClient ??= new SecretsManagerClient({});
  return defaultClient;
}

/**
 * A {@link SecretReader} over Secrets Manager's `GetSecretValue` (default: a client
 * for the function's own region and credentials).
 * @throws RiffleError `api-keys-unavailable` (retryable) when the call fails;
 *   `api-keys-not-text` when the secret holds no string.
 */
export function secretsManagerReader(client?: SecretsManagerLike): SecretReader {
  return async (secretId) => {
    const c = client ?? defaultSecretsManager();
    let out: { SecretString?: string | undefined };
    try {
      out = await c.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (cause) {
      throw new RiffleError("api-keys-unavailable", `could not read the API keys from secret ${secretId}`, {
        cause,
        retryable: true,
      });
    }
    if (typeof out.SecretString !== "string") {
      throw new RiffleError("api-keys-not-text", `secret ${secretId} holds no string (expected comma-separated keys)`);
    }
    return out.SecretString;
  };
}

/** Options of {@link cached}. */
export interface CacheOptions {
  /** How long a value is used, in ms (default {@link DEFAULT_SECRET_TTL_MS}). */
  readonly ttlMs?: number;
  /** The clock, in ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * `read`, called at most once per `ttlMs` while it succeeds. Callers that arrive
 * while a read is running wait for that read. A rejected read is not kept.
 */
export function cached<T>(read: () => Promise<T>, options: CacheOptions = {}): () => Promise<T> {
  const ttl = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
  const now = options.now ?? Date.now;
  let value: { readonly v: T; readonly until: number } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (value && now() < value.until) return Promise.resolve(value.v);
    pending ??= read().then(
      (v) => {
        value = { v, until: now() + ttl };
        pending = undefined;
        return v;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
}

/**
 * The credentials in secret `secretId`: a principals document (key digests, grants and
 * policies; `core/governance/principals-config.ts`) or comma-separated plain keys (as
 * `RIFFLE_API_KEYS`), read through `reader` (default: Secrets Manager) and cached
 * ({@link cached}). A malformed principals document fails every request with a retryable
 * `api-keys-invalid` (503, logged with the field that is wrong) until the secret is fixed.
 */
export function secretApiKeys(
  secretId: string,
  options: CacheOptions & { readonly reader?: SecretReader } = {},
): () => Promise<CredentialSet> {
  const reader = options.reader ?? secretsManagerReader();
  return cached(async () => {
    const text = await reader(secretId);
    try {
      return parseCredentials(text, `secret ${secretId}`);
    } catch (cause) {
      // The server's configuration, not the request, is wrong: a 503 (logged) until the secret is fixed.
      throw new RiffleError("api-keys-invalid", (cause as Error).message, { cause, retryable: true });
    }
  }, options);
}
