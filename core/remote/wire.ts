/**
 * The wire format of remote functions, version 1 (docs/REMOTE-FUNCTIONS.md has the
 * JSON schema). riffle sends one request per batch: groups of records, each group
 * one key with its current state (or, for a stateless function, one group without
 * a key); the function answers per group the new state and per record its outputs
 * or an error. Both sides are plain JSON.
 */

import { RemoteFunctionError } from "../errors.ts";

/** The version this riffle speaks; a response of another version is refused. */
export const WIRE_VERSION = 1;
/** Largest request riffle sends, in bytes: under Lambda's 6 MB synchronous payload limit. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Largest response riffle accepts, in bytes (Lambda's synchronous response limit). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** What the function does with a record. */
export type RemoteKind = "process" | "map" | "flatMap" | "scalar" | "table";

/** One record of a group: its value and event time (`null` when untimed). */
export interface WireRecord {
  readonly value: unknown;
  readonly time: number | null;
}

/** One group of a request: a key with its state, or (stateless) records alone. */
export interface WireGroup {
  /** The key (stateless functions: absent). */
  readonly key?: unknown;
  /** The key's current state (`null` when it has none; stateless: absent). */
  readonly state?: unknown;
  readonly records: readonly WireRecord[];
}

/** A batch riffle sends. */
export interface WireRequest {
  readonly v: typeof WIRE_VERSION;
  /** Idempotency key: the same inputs and state always carry the same id (a retry repeats it). */
  readonly id: string;
  /** The function's name, as the job gave it. */
  readonly function: string;
  readonly kind: RemoteKind;
  readonly groups: readonly WireGroup[];
}

/** One record's result: its outputs, or why it failed (riffle retries it, then dead-letters it). */
export type WireResult = { readonly out: readonly unknown[] } | { readonly error: string };

/** The answer for one group. */
export interface WireGroupResult {
  /** The key's state after the group's records (`null` clears it; absent: unchanged). */
  readonly state?: unknown;
  /** One result per record, in order. */
  readonly results: readonly WireResult[];
}

/** The function's answer. */
export interface WireResponse {
  readonly v: typeof WIRE_VERSION;
  readonly id: string;
  readonly groups: readonly WireGroupResult[];
}

/** Parses and checks a response against `request`; anything out of contract is a {@link RemoteFunctionError}. */
export function parseResponse(target: string, request: WireRequest, body: string): WireResponse {
  if (body.length > MAX_RESPONSE_BYTES) {
    throw new RemoteFunctionError(target, `response of ${body.length} bytes exceeds ${MAX_RESPONSE_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new RemoteFunctionError(target, "response is not JSON", { cause });
  }
  const r = parsed as Partial<WireResponse> | null;
  if (r === null || typeof r !== "object") throw new RemoteFunctionError(target, "response is not an object");
  if (r.v !== WIRE_VERSION) {
    throw new RemoteFunctionError(
      target,
      `response speaks wire version ${String(r.v)}, riffle speaks ${WIRE_VERSION}`,
      {
        retryable: false,
      },
    );
  }
  if (r.id !== request.id) throw new RemoteFunctionError(target, `response id ${String(r.id)} is not ${request.id}`);
  const groups = r.groups;
  if (!Array.isArray(groups) || groups.length !== request.groups.length) {
    throw new RemoteFunctionError(
      target,
      `response has ${describeLength(groups)} groups, the request ${request.groups.length}`,
    );
  }
  groups.forEach((g: WireGroupResult, i) => {
    const want = (request.groups[i] as WireGroup).records.length;
    if (!g || !Array.isArray(g.results) || g.results.length !== want) {
      throw new RemoteFunctionError(target, `group ${i} has ${describeLength(g?.results)} results for ${want} records`);
    }
    for (const res of g.results) {
      const ok = res && typeof res === "object" && (Array.isArray((res as { out?: unknown }).out) || "error" in res);
      if (!ok)
        throw new RemoteFunctionError(target, `group ${i} has a result that is neither {out: [...]} nor {error}`);
    }
  });
  return r as WireResponse;
}

function describeLength(v: unknown): string {
  return Array.isArray(v) ? String(v.length) : "no";
}
