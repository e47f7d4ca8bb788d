/**
 * One remote batch, called with a timeout and retried with exponential backoff.
 * A batch that still fails after its retries fails each of its records (riffle then
 * retries the records' messages and, under the dead-letter strategy, dead-letters
 * them, as it does for a local operator that throws).
 */

import { RemoteFunctionError } from "../errors.ts";
import type { RemoteInvoker } from "./invoker.ts";
import { MAX_REQUEST_BYTES, parseResponse, type WireRequest, type WireResponse } from "./wire.ts";

/** How a batch is retried. */
export interface RetryPolicy {
  /** Wall-clock limit of one call, in ms. */
  readonly timeoutMs: number;
  /** Calls after the first (0: none). */
  readonly retries: number;
  /** Wait before the first retry, in ms; doubled for each next one. */
  readonly backoffMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `request` through `invoker` under `policy`; rejects with the last {@link RemoteFunctionError}. */
export async function callRemote(
  invoker: RemoteInvoker,
  request: WireRequest,
  policy: RetryPolicy,
): Promise<WireResponse> {
  const body = JSON.stringify(request);
  if (body.length > MAX_REQUEST_BYTES) {
    throw new RemoteFunctionError(
      invoker.target,
      `a batch of ${body.length} bytes exceeds ${MAX_REQUEST_BYTES}; lower the batch size`,
      { retryable: false },
    );
  }
  let last: unknown;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(policy.backoffMs * 2 ** (attempt - 1));
    try {
      const answer = invoker.call ? invoker.call(body, policy.timeoutMs) : once(invoker, body, policy.timeoutMs);
      return parseResponse(invoker.target, request, await answer);
    } catch (error) {
      last = error;
      if (error instanceof RemoteFunctionError && !error.retryable) break;
    }
  }
  throw last instanceof RemoteFunctionError
    ? last
    : new RemoteFunctionError(invoker.target, "the call failed", { cause: last });
}

/** One call through `invoke`, aborted after `timeoutMs` (an invoker with `call` limits its own). */
async function once(invoker: RemoteInvoker, body: string, timeoutMs: number): Promise<string> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new RemoteFunctionError(invoker.target, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([invoker.invoke(body, abort.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
