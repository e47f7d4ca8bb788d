/**
 * Remote scalar functions in SQL: `CREATE FUNCTION f(STRING) RETURNS STRING AS
 * 'arn:…' LANGUAGE PYTHON` (or a URL) registers a function answered by a remote
 * function (kind `scalar`: each record is the list of arguments). The signature is
 * declared, so a call with the wrong number of arguments fails at plan time.
 *
 * A calc that calls remote functions runs them first, as Flink's async calc does:
 * one stateless remote stage per call appends the call's result to the row (so a
 * slice's rows go out in batches), then the calc reads the results as columns.
 * Only an append-only input is supported; anywhere else (an aggregate's argument, a
 * join key) the call fails at plan time.
 */

import type { DataStream } from "../api/datastream.ts";
import { isLambdaTarget } from "../remote/invoker.ts";
import { RemoteDataStream } from "../remote/remote-stream.ts";
import type { TypeName } from "./ast.ts";
import { invalid, type Pos, unsupported } from "./errors.ts";
import { type BoundExpr, compile, type Row } from "./expr.ts";
import type { ScalarFn } from "./functions.ts";
import { type SqlType, typeOf } from "./types.ts";

/** What marks a remote scalar function. */
interface RemoteScalar extends ScalarFn {
  readonly remote: { readonly name: string; readonly target: string };
}

const isRemote = (fn: ScalarFn): fn is RemoteScalar => "remote" in fn;

/** True when `target` (the `AS '…'` of CREATE FUNCTION) names a remote function. */
export function isRemoteTarget(target: string, language: string | undefined): boolean {
  return language?.toUpperCase() === "PYTHON" || target.startsWith("arn:") || !isLambdaTarget(target);
}

/** The scalar function `name` answered by the remote function at `target`, with its declared signature. */
export function remoteScalar(
  name: string,
  target: string,
  params: readonly TypeName[] | undefined,
  returns: TypeName | undefined,
  pos: Pos,
): ScalarFn {
  if (!params || !returns) {
    throw invalid(
      pos,
      `remote function '${name}' needs its signature: CREATE FUNCTION ${name}(STRING, …) RETURNS STRING AS '…'`,
    );
  }
  const result: SqlType = typeOf(returns);
  const arity = params.length;
  const fn: RemoteScalar = {
    remote: { name, target },
    nullAware: true,
    volatile: true, // never folded: it is called at run time only
    type: (args, at) => {
      if (args.length !== arity) throw invalid(at, `function '${name}' takes ${arity} argument(s), got ${args.length}`);
      return result;
    },
    make: () => {
      throw unsupported(
        pos,
        `remote function '${name}' here (only in the SELECT list or WHERE of an append-only query)`,
      );
    },
  };
  return fn;
}

/** The remote calls of `exprs`, each once, innermost first; a remote call inside another's arguments is refused. */
/** The calls of remote functions in `exprs`, innermost first. */
export function remoteCalls(exprs: readonly BoundExpr[]): Extract<BoundExpr, { kind: "call" }>[] {
  const out: Extract<BoundExpr, { kind: "call" }>[] = [];
  const walk = (e: BoundExpr, inside: boolean): void => {
    switch (e.kind) {
      case "call":
        if (isRemote(e.fn) && inside)
          throw unsupported(undefined, "a remote function call inside a remote function's arguments");
        for (const a of e.args) walk(a, inside || isRemote(e.fn));
        if (isRemote(e.fn) && !out.includes(e)) out.push(e);
        return;
      case "case":
        for (const w of e.whens) {
          walk(w.when, inside);
          walk(w.result, inside);
        }
        walk(e.else, inside);
        return;
      case "field":
      case "cast":
      case "is-null":
        walk(e.expr, inside);
        return;
      default:
        return;
    }
  };
  for (const e of exprs) walk(e, false);
  return out;
}

/** `e` with each remote call replaced by the column its stage appended. */
function replaceCalls(e: BoundExpr, columnOf: Map<BoundExpr, number>): BoundExpr {
  const at = columnOf.get(e);
  if (at !== undefined) return { kind: "input", index: at, type: e.type };
  switch (e.kind) {
    case "call":
      return { ...e, args: e.args.map((a) => replaceCalls(a, columnOf)) };
    case "case":
      return {
        ...e,
        whens: e.whens.map((w) => ({ when: replaceCalls(w.when, columnOf), result: replaceCalls(w.result, columnOf) })),
        else: replaceCalls(e.else, columnOf),
      };
    case "field":
    case "cast":
    case "is-null":
      return { ...e, expr: replaceCalls(e.expr, columnOf) };
    default:
      return e;
  }
}

/**
 * When `exprs` call remote functions: the input with one remote stage per call (each
 * appends its result to the row) and the expressions over the widened rows.
 */
export function withRemoteCalls(
  input: DataStream<Row>,
  width: number,
  exprs: readonly BoundExpr[],
  uid: () => string,
): { input: DataStream<Row>; exprs: BoundExpr[] } | undefined {
  const calls = remoteCalls(exprs);
  if (calls.length === 0) return undefined;
  let s = input;
  const columnOf = new Map<BoundExpr, number>();
  calls.forEach((call, i) => {
    const { name, target } = (call.fn as RemoteScalar).remote;
    const args = call.args.map(compile);
    const spec = { name, target };
    const codec = {
      encode: (row: unknown) => args.map((f) => f(row as Row)),
      decode: (row: unknown, out: readonly unknown[]) => [[...(row as Row), out[0] ?? null]],
    };
    s = RemoteDataStream.withCodec<Row, Row>(s, spec, "scalar", codec).uid(uid());
    columnOf.set(call, width + i);
  });
  return { input: s, exprs: exprs.map((e) => replaceCalls(e, columnOf)) };
}
