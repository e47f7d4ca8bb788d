/**
 * Authentication of the HTTP API: a key sent as `authorization: Bearer <token>` or
 * `x-api-key: <key>` identifies a principal (`core/governance/principal.ts`). The
 * presented key is hashed with SHA-256 and the digest compared with every configured
 * one with `timingSafeEqual`, no early exit, so neither the content nor the length
 * of a key leaks through timing. With no key configured every request is refused:
 * the API is never open by default.
 *
 * Two configurations:
 * - a principals file ({@link PrincipalDirectory}, `core/governance/principals-config.ts`):
 *   key digests only, each with a principal's grants and policies;
 * - plain keys (`RIFFLE_API_KEYS`, comma-separated; kept for compatibility): every key
 *   is the one principal `api-key` with every grant.
 *
 * Locally they come from `riffle dev --principals FILE` or `RIFFLE_API_KEYS`; deployed,
 * from the Secrets Manager secret that `RIFFLE_API_KEYS_SECRET` names, read at run
 * time (`functions/aws/secret-keys.ts`): a principals document or plain keys.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { ALL_GRANTS_PRINCIPAL, type Principal } from "../../core/governance/principal.ts";
import { type KeyedPrincipal, parsePrincipals } from "../../core/governance/principals-config.ts";
import { HttpError } from "./errors.ts";

/** Principals by the digests of their keys (a principals file). */
export interface PrincipalDirectory {
  readonly principals: readonly KeyedPrincipal[];
}

/** Plain keys (each the all-grants principal), or principals by key digest. */
export type CredentialSet = readonly string[] | PrincipalDirectory;

/**
 * The configured credentials: fixed, or a function called on every request (for
 * rotation), which may answer asynchronously (a secret store).
 */
export type Credentials = CredentialSet | (() => CredentialSet | Promise<CredentialSet>);

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

/** The configured principals, each with the digests that identify it. */
function keyed(set: CredentialSet): { principal: Principal; digests: Buffer[] }[] {
  if ("principals" in set) {
    return set.principals.map(({ keySha256, ...principal }) => ({
      principal,
      digests: keySha256.map((k) => Buffer.from(k, "hex")),
    }));
  }
  const keys = (set as readonly string[]).filter((k) => k !== "");
  return keys.length === 0 ? [] : [{ principal: ALL_GRANTS_PRINCIPAL, digests: keys.map(digest) }];
}

/**
 * The principal a request's credential identifies; rejects with a 401
 * {@link HttpError} (with `www-authenticate: Bearer`) when the server has no key
 * configured, when the request presents none, or when the one it presents matches no
 * configured key. `headers` must have lower-case names (as API Gateway v2 events do).
 * An error reading the configured keys rejects as it is (a retryable one is a 503).
 */
export async function authenticate(
  headers: Readonly<Record<string, string | undefined>>,
  credentials: Credentials,
): Promise<Principal> {
  const known = keyed(typeof credentials === "function" ? await credentials() : credentials);
  if (known.length === 0) {
    throw unauthorized(
      "the server has no credentials configured (set RIFFLE_API_KEYS to a comma-separated list of keys, or give a principals file); every request is refused",
    );
  }
  const secret = presented(headers);
  if (secret === undefined) throw unauthorized(MISSING_CREDENTIAL);
  const given = digest(secret);
  let found: Principal | undefined;
  // No early exit: every digest is compared, whichever matches.
  for (const { principal, digests } of known)
    for (const d of digests) if (timingSafeEqual(given, d) && found === undefined) found = principal;
  if (found === undefined)
    throw unauthorized("invalid credential: the bearer token or x-api-key matches no configured key");
  return found;
}

/**
 * Credentials from text: a principals document (JSON, starting with `{`) or plain
 * comma-separated keys.
 * @param where the file or secret, for messages
 */
export function parseCredentials(text: string, where: string): CredentialSet {
  return text.trim().startsWith("{") ? { principals: parsePrincipals(text, where) } : parseKeyList(text);
}

/** Parses `RIFFLE_API_KEYS`-style text: comma-separated keys, blanks trimmed and dropped. */
export function parseKeyList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
}
