/**
 * The wire format of remote functions, version 2 (docs/REMOTE-FUNCTIONS.md has the
 * JSON schema). riffle sends one request per batch: groups of records, each group
 * one key with its current state (or, for a stateless function, one group without
 * a key), its records as columns (values, and event times when any is set); the
 * function answers per group the new state and one output entry per record, with
 * the failed records apart. Both sides are plain JSON: one array per column, not
 * one object per record.
 */

import { RemoteFunctionError } from "../errors.ts";

/** The version this riffle speaks; a response of another version is refused. */
export const WIRE_VERSION = 2;
/** Largest request riffle sends, in bytes: under Lambda's 6 MB synchronous payload limit. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Largest response riffle accepts, in bytes (Lambda's synchronous response limit). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** What the function does with a record. */
export type RemoteKind = "process" | "map" | "flatMap" | "scalar" | "table";

/** True for the kinds whose output entry is the record's one output (the others': an array of its outputs). */
export function singleOutput(kind: RemoteKind): boolean {
  return kind === "map" || kind === "scalar";
}

/** One group of a request: a key with its state, or (stateless) records alone. */
export interface WireGroup {
  /** The key (stateless functions: absent). */
  readonly key?: unknown;
  /** The key's current state (`null` when it has none; stateless: absent). */
  readonly state?: unknown;
  /** The records' values, in input order. */
  readonly values: readonly unknown[];
  /** Their event times in ms (`null`: untimed), index-aligned; absent when none is timed. */
  readonly times?: readonly (number | null)[];
  /**
   * Keyed: ascending record counts (1 … values.length − 1) after which riffle needs
   * the key's state too (where the slice's input envelopes end); absent when none.
   */
  readonly cuts?: readonly number[];
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

/** The answer for one group. */
export interface WireGroupResult {
  /** The key's state after the group's records (`null` clears it; absent: unchanged). */
  readonly state?: unknown;
  /** The key's state after each of the request's `cuts`, in order. */
  readonly states?: readonly unknown[];
  /**
   * One entry per record, in order: for `map` and `scalar` the record's output, for
   * the other kinds the array of its outputs (a failed record's entry is ignored).
   */
  readonly out: readonly unknown[];
  /** The records that failed, as `[index, message]` (riffle retries them, then dead-letters them). */
  readonly errors?: readonly (readonly [number, string])[];
}

/** The function's answer. */
export interface WireResponse {
  readonly v: typeof WIRE_VERSION;
  readonly id: string;
  readonly groups: readonly WireGroupResult[];
}

/** A record's outputs, or its error message. */
export type RecordOutcome =
  | { readonly ok: true; readonly out: readonly unknown[] }
  | { readonly ok: false; readonly error: string };

/** Each record's outcome in a checked group result of a `kind` function. */
export function recordOutcomes(kind: RemoteKind, result: WireGroupResult): RecordOutcome[] {
  const single = singleOutput(kind);
  const outcomes: RecordOutcome[] = result.out.map((o) => ({ ok: true, out: single ? [o] : (o as unknown[]) }));
  for (const [i, error] of result.errors ?? []) outcomes[i] = { ok: false, error };
  return outcomes;
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
    const msg = `response speaks wire version ${String(r.v)}, riffle speaks ${WIRE_VERSION}`;
    throw new RemoteFunctionError(target, msg, { retryable: false });
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
    const problem = checkGroup(request.kind, request.groups[i] as WireGroup, g);
    if (problem) throw new RemoteFunctionError(target, `group ${i} ${problem}`);
  });
  return r as WireResponse;
}

/** What is wrong with group result `g` of request group `want`, if anything. */
function checkGroup(kind: RemoteKind, want: WireGroup, g: WireGroupResult | null): string | undefined {
  const n = want.values.length;
  if (!g || !Array.isArray(g.out) || g.out.length !== n)
    return `has ${describeLength(g?.out)} outputs for ${n} records`;
  const errors = g.errors ?? [];
  if (!Array.isArray(errors)) return "has errors that are not a list";
  const failed = new Set<number>();
  for (const e of errors) {
    if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= n || typeof e[1] !== "string")
      return `has an error that is not [index, message] of one of its ${n} records`;
    failed.add(e[0]);
  }
  if (!singleOutput(kind) && g.out.some((o, i) => !failed.has(i) && !Array.isArray(o)))
    return `has an output entry that is not an array (a ${kind} function answers each record's outputs as a list)`;
  const cuts = want.cuts?.length ?? 0;
  if (cuts > 0 && (!Array.isArray(g.states) || g.states.length !== cuts))
    return `has ${describeLength(g.states)} states for ${cuts} cuts`;
  return undefined;
}

function describeLength(v: unknown): string {
  return Array.isArray(v) ? String(v.length) : "no";
}
