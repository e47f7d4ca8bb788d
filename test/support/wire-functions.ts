/**
 * The function's side of the remote wire format in TypeScript, for tests that answer
 * riffle in their own process: what the Python SDK does (sdk/python/riffle_sdk/wire.py),
 * record by record, a failed record's state change left out.
 */

import { WIRE_VERSION, type WireGroupResult, type WireRequest } from "../../core/remote/wire.ts";

/** A keyed function: the new state and outputs for one record (throw to fail the record). */
export type ProcessFn = (key: unknown, state: unknown, value: unknown) => [unknown, unknown[]];

/** Answers a `process` request body with `fn`, including the state at each cut. */
export function answerProcess(body: string, fn: ProcessFn): string {
  const r = JSON.parse(body) as WireRequest;
  const groups = r.groups.map((g): WireGroupResult => {
    let state: unknown = g.state ?? null;
    const out: unknown[] = [];
    const errors: [number, string][] = [];
    const states: unknown[] = [];
    const cuts = new Set(g.cuts ?? []);
    g.values.forEach((v, i) => {
      if (cuts.has(i)) states.push(state);
      try {
        const [next, outputs] = fn(g.key, state, v);
        out.push(outputs);
        state = next;
      } catch (e) {
        out.push(null);
        errors.push([i, String((e as Error).message)]);
      }
    });
    return { state, out, ...(errors.length > 0 ? { errors } : {}), ...(states.length > 0 ? { states } : {}) };
  });
  return JSON.stringify({ v: WIRE_VERSION, id: r.id, groups });
}

/** Answers a `map` request body with `fn` (one output per record). */
export function answerMap(body: string, fn: (value: unknown) => unknown): string {
  const r = JSON.parse(body) as WireRequest;
  const groups = r.groups.map((g): WireGroupResult => ({ out: g.values.map(fn) }));
  return JSON.stringify({ v: WIRE_VERSION, id: r.id, groups });
}
