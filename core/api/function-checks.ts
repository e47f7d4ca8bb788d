/** Build-time checks of user functions, shared by the stream methods that take them. */

import { JobDefinitionError } from "../errors.ts";
import type { ImpliedTimers, RichFunction } from "./functions.ts";

/**
 * `fn` as given, after checking that `given` (the user's function or function
 * object) is not an `async` function; `what` names the method for the error.
 */
export function syncFn<F>(what: string, given: unknown, fn: F): F {
  const f = typeof given === "function" ? given : fn;
  if (typeof f === "function" && f.constructor?.name === "AsyncFunction") {
    throw new JobDefinitionError(
      `${what}(): the function is async, so every record would become a Promise; use AsyncDataStream.orderedWait/unorderedWait for async I/O`,
    );
  }
  return fn;
}

/** The `rich` field of a node op, when `fn` is a function object (it may have `open`/`close`). */
export function rich(fn: unknown): { rich?: RichFunction } {
  return typeof fn === "function" ? {} : { rich: fn as RichFunction };
}

/**
 * Checks a keyed function's `impliedTimers` (if any): `state` must name one of its states, without
 * a TTL, and `at` must be a function, or its timers would never fire. `what` names the method for the error.
 */
export function impliedTimersOf(
  what: string,
  fn: { readonly state?: object; readonly impliedTimers?: ImpliedTimers<never, never> },
): void {
  const implied = fn.impliedTimers;
  if (implied === undefined) return;
  const names = Object.keys(fn.state ?? {});
  if (!names.includes(implied.state))
    throw new JobDefinitionError(
      `${what}(): impliedTimers.state '${String(implied.state)}' is not one of the function's states (${names.join(", ") || "none"})`,
    );
  if (typeof implied.at !== "function") throw new JobDefinitionError(`${what}(): impliedTimers.at must be a function`);
  // A TTL hides and removes the state behind the function's back: its timers would vanish with it.
  if ((fn.state as Record<string, { readonly ttl?: unknown }>)[implied.state]?.ttl !== undefined)
    throw new JobDefinitionError(
      `${what}(): impliedTimers.state '${implied.state}' has a TTL; a state that implies timers cannot expire by itself`,
    );
}
