/**
 * Authentication of the HTTP API: a shared secret sent as
 * `authorization: Bearer <token>` or `x-api-key: <key>`. The presented secret is
 * compared with every configured one in constant time: both are hashed with
 * SHA-256 and the digests compared with `timingSafeEqual`, so neither the content
 * nor the length of a key leaks through timing. With no key configured every
 * request is refused: the API is never open by default.
 *
 * Keys come from `RIFFLE_API_KEYS` locally (`riffle dev`), and, deployed, from the
 * Secrets Manager secret that `RIFFLE_API_KEYS_SECRET` names, read at run time
 * (`functions/aws/secret-keys.ts`).
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.ts";

/**
 * The configured secrets: a fixed list, or a function called on every request (for
 * rotation), which may answer asynchronously (a secret store).
 */
export type Credentials = readonly string[] | (() => readonly string[] | Promise<readonly string[]>);

/** The environment variable that names the Secrets Manager secret holding the API keys (its ARN). */
export const API_KEYS_SECRET_VAR = "RIFFLE_API_KEYS_SECRET";

/** Message of the 401 for a request that presents no credential. */
export const MISSING_CREDENTIAL = "missing credential: send 'authorization: Bearer <token>' or 'x-api-key'";

const CHALLENGE = { "www-authenticate": "Bearer" };

function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, { headers: CHALLENGE });
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** The secret a request presents, from `authorization: Bearer …` or `x-api-key`; undefined when none. */
function presented(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const apiKey = headers["x-api-key"];
  if (apiKey !== undefined && apiKey !== "") return apiKey;
  const authorization = headers.authorization;
  if (authorization === undefined || authorization.trim() === "") return undefined;
  const match = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(authorization);
  const scheme = match?.[1] ?? "";
  if (scheme.toLowerCase() !== "bearer") {
    throw unauthorized(
      `unsupported authorization scheme '${scheme}': send 'authorization: Bearer <token>' or 'x-api-key'`,
    );
  }
  const token = match?.[2] ?? "";
  if (token === "") throw unauthorized("empty bearer token: send 'authorization: Bearer <token>'");
  return token;
}

/**
 * Checks a request's credential against `credentials`; rejects with a 401
 * {@link HttpError} (with `www-authenticate: Bearer`) when the server has no key
 * configured, when the request presents none, or when the one it presents matches no
 * configured key. `headers` must have lower-case names (as API Gateway v2 events do).
 * An error reading the configured keys rejects as it is (a retryable one is a 503).
 */
export async function authenticate(
  headers: Readonly<Record<string, string | undefined>>,
  credentials: Credentials,
): Promise<void> {
  const keys = (typeof credentials === "function" ? await credentials() : credentials).filter((k) => k !== "");
  if (keys.length === 0) {
    throw unauthorized(
      "the server has no credentials configured (set RIFFLE_API_KEYS to a comma-separated list of keys); every request is refused",
    );
  }
  const secret = presented(headers);
  if (secret === undefined) throw unauthorized(MISSING_CREDENTIAL);
  const given = digest(secret);
  let ok = false;
  // No early exit: every key is compared, whichever matches.
  for (const key of keys) ok = timingSafeEqual(given, digest(key)) || ok;
  if (!ok) throw unauthorized("invalid credential: the bearer token or x-api-key matches no configured key");
}

/** Parses `RIFFLE_API_KEYS`-style text: comma-separated keys, blanks trimmed and dropped. */
export function parseKeyList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
}
