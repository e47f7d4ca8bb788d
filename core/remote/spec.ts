/**
 * A remote function as a job names it: where it runs and how it is called.
 */

import { JobDefinitionError } from "../errors.ts";
import type { BatchPolicy } from "./batches.ts";
import { invokerFor, isLambdaTarget, type RemoteInvoker } from "./invoker.ts";

/** A remote function in a job. */
export interface RemoteFunctionSpec {
  /** The function's name (sent in each request; a function serving several dispatches on it). */
  readonly name: string;
  /**
   * Where it runs: a Lambda function name or ARN, an `http://` / `https://` URL, or
   * an invoker object (a test's, or one of your own).
   */
  readonly target: string | RemoteInvoker;
  /** Records per request (default 100). */
  readonly batchSize?: number;
  /**
   * Requests in flight at once per partition: default {@link HTTP_CONCURRENCY} for an
   * `http://` / `https://` target (its requests are pipelined on a shared connection,
   * so more in flight means more of them per write and read on both sides), 4 for a
   * Lambda function (each request in flight is a concurrent invocation) or an invoker.
   */
  readonly concurrency?: number;
  /**
   * HTTP targets: connections to the target's origin that this process's calls of it
   * share (default 1). Requests beyond them are pipelined (HTTP/1.1: written at once,
   * answered in order), so one read and one write on each side serve several; set it
   * to at least `concurrency` × the partitions in the process for one request a
   * connection (a server that does not take pipelined requests).
   */
  readonly connections?: number;
  /** Wall-clock limit of one call, ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Retries of a failed call, with exponential backoff (default 2). */
  readonly retries?: number;
  /** Wait before the first retry, ms, doubled for each next one (default 100). */
  readonly backoffMs?: number;
}

/**
 * The default requests in flight per partition to an HTTP target. Pipelined on one
 * connection, more in flight means more requests a write and a read on both sides: at
 * batch 100 against the SDK server 16 took riffle's CPU per record ~15–20% under 4's
 * (docs/BENCHMARKS.md, remote, round 5), and 32 another ~8% under 16's once the calls
 * for the next slices fill the places a slice's calls free (round 7; 64: no better).
 */
export const HTTP_CONCURRENCY = 32;

/** A checked spec: its policy, and its invoker made on first use. */
export interface ResolvedRemote {
  readonly name: string;
  readonly target: string;
  readonly policy: BatchPolicy;
  invoker(): RemoteInvoker;
}

/** Checks `spec` at plan time (a mistake fails the job definition, not a batch). */
export function resolveRemote(spec: RemoteFunctionSpec): ResolvedRemote {
  const where = `remote function ${JSON.stringify(spec?.name)}`;
  if (!spec || typeof spec.name !== "string" || spec.name === "") {
    throw new JobDefinitionError("a remote function needs a non-empty name");
  }
  const t = spec.target;
  if (typeof t === "string" ? t === "" : typeof t?.invoke !== "function") {
    throw new JobDefinitionError(`${where}: target must be a Lambda function name or ARN, a URL, or an invoker`);
  }
  const int = (v: number | undefined, d: number, min: number, what: string) => {
    const n = v ?? d;
    if (!Number.isSafeInteger(n) || n < min)
      throw new JobDefinitionError(`${where}: ${what} must be an integer ≥ ${min}, got ${n}`);
    return n;
  };
  const policy: BatchPolicy = {
    batchSize: int(spec.batchSize, 100, 1, "batchSize"),
    concurrency: int(
      spec.concurrency,
      typeof t === "string" && !isLambdaTarget(t) ? HTTP_CONCURRENCY : 4,
      1,
      "concurrency",
    ),
    timeoutMs: int(spec.timeoutMs, 10_000, 1, "timeoutMs"),
    retries: int(spec.retries, 2, 0, "retries"),
    backoffMs: int(spec.backoffMs, 100, 0, "backoffMs"),
  };
  const connections = int(spec.connections, 1, 1, "connections");
  let made: RemoteInvoker | undefined = typeof t === "string" ? undefined : t;
  return {
    name: spec.name,
    target: typeof t === "string" ? t : t.target,
    policy,
    invoker: () => {
      made ??= invokerFor(t as string, { connections });
      return made;
    },
  };
}
