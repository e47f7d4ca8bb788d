/**
 * The principals file: who may call the HTTP API, by the SHA-256 of their keys (the
 * plaintext key is never stored: not in the file, the environment or the secret).
 * `riffle dev --principals FILE` reads it; deployed, the API keys secret may hold it
 * instead of plain keys.
 *
 * ```json
 * {"principals": [
 *   {"name": "north-analyst", "keySha256": ["<64 hex digits>"], "grants": ["read:orders"],
 *    "policies": {"orders": {"rows": "region = 'north'", "masks": {"email": "mask_email(email)"}}}}
 * ]}
 * ```
 *
 * `keySha256` is one digest or a list (several keys during a rotation), e.g.
 * `printf %s "$KEY" | sha256sum`. Policies are checked for SQL syntax here; their
 * columns are checked against a table when a query reads it.
 */
import { createHash } from "node:crypto";
import { RiffleError } from "../errors.ts";
import { parseExpression } from "./policy-sql.ts";
import { checkGrant, type Principal, type TablePolicy } from "./principal.ts";

/** A principal and the digests of its keys. */
export interface KeyedPrincipal extends Principal {
  /** Hex SHA-256 digests of the principal's keys. */
  readonly keySha256: readonly string[];
}

/** The principals file is wrong: the message names the field. */
export class PrincipalsError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("usage", message, options);
  }
}

/** The hex SHA-256 of a key, as the principals file stores it. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function strings(v: unknown, at: string, fail: (m: string) => never): string[] {
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) fail(`${at} must be a list of strings`);
  return list as string[];
}

function policyOf(v: unknown, at: string, fail: (m: string) => never): TablePolicy {
  if (!isObject(v)) return fail(`${at} must be an object with 'rows' and/or 'masks'`);
  const extra = Object.keys(v).filter((k) => k !== "rows" && k !== "masks");
  if (extra.length > 0) fail(`${at} has unknown field '${extra[0]}' (use 'rows' and 'masks')`);
  if (v.rows !== undefined && typeof v.rows !== "string") fail(`${at}.rows must be a SQL predicate string`);
  if (v.masks !== undefined && !(isObject(v.masks) && Object.values(v.masks).every((m) => typeof m === "string")))
    fail(`${at}.masks must map column names to SQL expressions`);
  const checkSql = (text: string, where: string) => {
    try {
      parseExpression(text, where);
    } catch (cause) {
      fail((cause as Error).message);
    }
  };
  if (typeof v.rows === "string") checkSql(v.rows, `${at}.rows`);
  for (const [c, m] of Object.entries((v.masks ?? {}) as Record<string, string>)) checkSql(m, `${at}.masks.${c}`);
  return v as TablePolicy;
}

function principalOf(v: unknown, at: string, fail: (m: string) => never): KeyedPrincipal {
  if (!isObject(v)) return fail(`${at} must be an object with 'name', 'keySha256' and 'grants'`);
  if (typeof v.name !== "string" || v.name === "") fail(`${at}.name must be a non-empty string`);
  const keySha256 = strings(v.keySha256, `${at}.keySha256`, fail).map((k) => k.toLowerCase());
  if (keySha256.length === 0) fail(`${at}.keySha256 must list at least one digest`);
  for (const k of keySha256)
    if (!/^[0-9a-f]{64}$/.test(k))
      fail(
        `${at}.keySha256 holds '${k.slice(0, 12)}…', not a hex SHA-256 digest (64 hex digits; never the key itself)`,
      );
  const grants = strings(v.grants ?? [], `${at}.grants`, fail);
  grants.forEach((g, i) => {
    try {
      checkGrant(g);
    } catch (cause) {
      fail(`${at}.grants[${i}]: ${(cause as Error).message}`);
    }
  });
  const policies: Record<string, TablePolicy> = {};
  if (v.policies !== undefined && !isObject(v.policies)) fail(`${at}.policies must map table names to policies`);
  for (const [t, p] of Object.entries((v.policies ?? {}) as Record<string, unknown>))
    policies[t] = policyOf(p, `${at}.policies.${t}`, fail);
  return { name: v.name as string, keySha256, grants, policies };
}

/**
 * Parses a principals file's text.
 * @param where the file or secret, for messages
 * @throws PrincipalsError naming the field that is wrong
 */
export function parsePrincipals(text: string, where: string): KeyedPrincipal[] {
  const fail = (m: string): never => {
    throw new PrincipalsError(`${where}: ${m}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new PrincipalsError(`${where}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isObject(doc) || !Array.isArray(doc.principals)) return fail(`expected {"principals": [...]}`);
  const list = doc.principals.map((p, i) => principalOf(p, `principals[${i}]`, fail));
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const p of list) {
    if (names.has(p.name)) fail(`principal '${p.name}' is listed twice`);
    names.add(p.name);
    for (const k of p.keySha256) {
      if (keys.has(k)) fail(`a key digest of principal '${p.name}' belongs to another principal too`);
      keys.add(k);
    }
  }
  return list;
}
