/**
 * The batching policy: a slice's groups go out in requests of at most `batchSize`
 * records (a group is never split, so one key's records in a slice reach the
 * function in one request, with the key's state), at most `concurrency` requests
 * at a time. The result has, per group, its answer or the error of its batch.
 */

import { Limiter } from "../concurrency.ts";
import { callRemote, type RetryPolicy } from "./call.ts";
import type { RemoteInvoker } from "./invoker.ts";
import { type RemoteKind, WIRE_VERSION, type WireGroup, type WireGroupResult, type WireRequest } from "./wire.ts";

/** How requests are formed and sent. */
export interface BatchPolicy extends RetryPolicy {
  /** Records per request (whole groups; a larger group goes alone). */
  readonly batchSize: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
}

/** A group's answer, or the error that failed its batch. */
export type GroupOutcome =
  | { readonly ok: true; readonly result: WireGroupResult }
  | { readonly ok: false; readonly error: unknown };

/** What is being called. */
export interface CallSite {
  readonly invoker: RemoteInvoker;
  readonly name: string;
  readonly kind: RemoteKind;
  readonly policy: BatchPolicy;
}

/**
 * Sends `groups` in batches; `idBase` plus the batch index is each request's
 * idempotency key. At most `policy.concurrency` requests are in flight, or as many
 * as `limiter` lets through when one is given (shared with the partition's other
 * calls, such as those started ahead for its next slice: these wait behind this
 * call's requests).
 */
export async function sendGroups(
  site: CallSite,
  groups: readonly WireGroup[],
  idBase: string,
  limiter: Limiter = new Limiter(site.policy.concurrency),
): Promise<GroupOutcome[]> {
  const batches: number[][] = [];
  let current: number[] = [];
  let size = 0;
  groups.forEach((g, i) => {
    if (current.length > 0 && size + g.values.length > site.policy.batchSize) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += g.values.length;
  });
  if (current.length > 0) batches.push(current);
  const outcomes: GroupOutcome[] = new Array(groups.length);
  const send = async (members: number[], b: number) => {
    const request: WireRequest = {
      v: WIRE_VERSION,
      id: `${idBase}/${b}`,
      function: site.name,
      kind: site.kind,
      groups: members.map((i) => groups[i] as WireGroup),
    };
    try {
      const response = await callRemote(site.invoker, request, site.policy);
      members.forEach((g, j) => {
        outcomes[g] = { ok: true, result: response.groups[j] as WireGroupResult };
      });
    } catch (error) {
      for (const g of members) outcomes[g] = { ok: false, error };
    }
  };
  await Promise.all(batches.map((members, b) => limiter.run(() => send(members, b))));
  return outcomes;
}
