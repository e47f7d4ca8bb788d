/**
 * Scalar user-defined functions: written in TypeScript (or JavaScript), registered with
 * `StreamTableEnvironment.createTemporarySystemFunction(name, fn)` or by a script's
 * `CREATE FUNCTION name AS 'module-path#export'` (the module is loaded with `require` from
 * the working directory: `./path/to/udfs.ts` or a package name; Node strips a `.ts` module's
 * types). The public Nexmark q14's `'com.github.nexmark.flink.udf.CountChar'` names riffle's own
 * port of that class.
 *
 * A function receives riffle's values (numbers, strings, booleans, TIMESTAMP(3) as epoch ms,
 * ROW as an object, NULL as `null`), NULLs included, and returns a value of its `resultType`.
 * It must be deterministic: a replay after a failure calls it again on the same rows.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { invalid, type Pos } from "./errors.ts";
import type { ScalarFn } from "./functions.ts";
import { type SqlType, typeOf } from "./types.ts";

/** A scalar function: its implementation and the SQL type it returns, e.g. `"BIGINT"`, `"DECIMAL(10, 2)"`. */
export interface ScalarFunction {
  readonly resultType: string;
  eval(...args: never[]): unknown;
}

/** Nexmark's `CountChar`: how many times the first character of `c` occurs in `s` (0 for a NULL `s`). */
export const countChar: ScalarFunction = {
  resultType: "BIGINT",
  eval(s: string | null, c: string | null): number {
    if (s === null || c === null || c === "") return 0;
    let n = 0;
    for (const ch of s) if (ch === c[0]) n++;
    return n;
  },
};

/** Flink class names riffle resolves to its own implementations. */
const KNOWN_CLASSES: Readonly<Record<string, ScalarFunction>> = {
  "com.github.nexmark.flink.udf.CountChar": countChar,
};

function resultTypeOf(name: string, text: unknown, pos: Pos): SqlType {
  const m = typeof text === "string" ? /^\s*([A-Za-z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/.exec(text) : null;
  if (!m) throw invalid(pos, `function '${name}' needs a resultType such as 'BIGINT', got ${JSON.stringify(text)}`);
  const params = [m[2], m[3]].filter((p) => p !== undefined).map(Number);
  return typeOf({ name: (m[1] as string).toUpperCase(), params, pos });
}

/** The {@link ScalarFn} of a user-defined function (checked: `eval` is a function, `resultType` a type). */
export function userFunction(name: string, fn: ScalarFunction, pos: Pos = { line: 0, column: 0 }): ScalarFn {
  if (typeof fn?.eval !== "function") throw invalid(pos, `function '${name}' has no eval(…) method`);
  const result = resultTypeOf(name, fn.resultType, pos);
  const arity = fn.eval.length;
  const impl = fn.eval.bind(fn) as (...args: unknown[]) => unknown;
  return {
    nullAware: true,
    type: (args, at) => {
      if (arity > 0 && args.length !== arity)
        throw invalid(at, `function '${name}' takes ${arity} argument(s), got ${args.length}`);
      return result;
    },
    make: () => (values) => impl(...values) ?? null,
  };
}

/** Resolves `CREATE FUNCTION … AS 'className'`: a known Flink class, or `module-path#export`. */
export function loadFunction(name: string, className: string, pos: Pos): ScalarFn {
  const known = KNOWN_CLASSES[className];
  if (known) return userFunction(name, known, pos);
  const hash = className.lastIndexOf("#");
  if (hash < 0)
    throw invalid(pos, `unknown function class '${className}': name a module and its export, 'path/to/module.ts#name'`);
  const [path, exported] = [className.slice(0, hash), className.slice(hash + 1)];
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(join(process.cwd(), "sql-udf.js"))(path) as Record<string, unknown>;
  } catch (cause) {
    throw invalid(pos, `cannot load module '${path}' of function '${name}': ${(cause as Error).message}`);
  }
  if (!(exported in mod)) throw invalid(pos, `module '${path}' has no export '${exported}'`);
  return userFunction(name, mod[exported] as ScalarFunction, pos);
}

let current: ReadonlyMap<string, ScalarFn> | undefined;

/** Runs `f` with `functions` (by upper-case name) visible to the binder. */
export function withFunctions<T>(functions: ReadonlyMap<string, ScalarFn>, f: () => T): T {
  const before = current;
  current = functions;
  try {
    return f();
  } finally {
    current = before;
  }
}

/** The user-defined function `name` (upper case) of the session being bound, if any. */
export function registeredFunction(name: string): ScalarFn | undefined {
  return current?.get(name);
}
