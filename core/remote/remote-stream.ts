/**
 * Stateless remote functions on a stream: a map (one output per record) or a
 * flatMap (any number), answered in batches per slice. Built on the async I/O
 * operator's batch mode, so the results commit with the slice's segment and a
 * failing record is retried, then dead-lettered, like a throwing local map.
 */

import { DataStream } from "../api/datastream.ts";
import type { AsyncBatch, BatchOutcome } from "../operators/async-wait.ts";
import { sendGroups } from "./batches.ts";
import { type RemoteFunctionSpec, resolveRemote } from "./spec.ts";
import type { RemoteTargeted } from "./targets.ts";
import type { RemoteKind, WireGroup } from "./wire.ts";

/** The batch function of a stateless remote function: one group per envelope. */
export function remoteBatch(spec: RemoteFunctionSpec, kind: RemoteKind, uid: () => string): AsyncBatch {
  const remote = resolveRemote(spec);
  const batch: AsyncBatch = async (envelopes, site) => {
    const groups: WireGroup[] = envelopes.map((e) => ({
      records: e.records.map((value, i) => {
        const t = e.times?.[i];
        return { value, time: typeof t === "number" && !Number.isNaN(t) ? t : null };
      }),
    }));
    const call = { invoker: remote.invoker(), name: remote.name, kind, policy: remote.policy };
    const outcomes = await sendGroups(call, groups, `${uid()}/${site}`);
    return outcomes.map((o, k): BatchOutcome[] => {
      const n = (groups[k] as WireGroup).records.length;
      if (!o.ok) return Array.from({ length: n }, () => ({ ok: false, error: o.error }));
      return o.result.results.map((r) =>
        "out" in r ? { ok: true, values: r.out } : { ok: false, error: new Error(r.error) },
      );
    });
  };
  return Object.assign(batch, { remoteTarget: remote.target } satisfies RemoteTargeted);
}

function remote<T, O>(stream: DataStream<T>, spec: RemoteFunctionSpec, kind: RemoteKind): DataStream<O> {
  const { policy } = resolveRemote(spec); // checks the spec at plan time
  let name = spec.name;
  const batch = remoteBatch(spec, kind, () => name);
  const fn = () => Promise.reject(new Error("a remote function runs in batch mode"));
  const id = stream.builder.add(
    { kind: "async", fn, ordered: true, timeoutMs: policy.timeoutMs, capacity: policy.concurrency, batch },
    `remote.${kind}`,
    stream.edges,
  );
  name = `${spec.name}@${id}`;
  return new DataStream<O>(stream.builder, [{ node: id, partition: undefined }]);
}

/**
 * Stateless remote functions, like {@link AsyncDataStream} but answered in batches
 * by a function elsewhere (a Lambda function, an HTTP endpoint).
 *
 * @example
 * ```ts
 * const scored = RemoteDataStream.map(events, { name: "score", target: "arn:aws:lambda:us-east-1:123456789012:function:score" });
 * ```
 */
export const RemoteDataStream = {
  /** One output per record. */
  map: <T, O>(stream: DataStream<T>, spec: RemoteFunctionSpec): DataStream<O> => remote(stream, spec, "map"),
  /** Any number of outputs per record. */
  flatMap: <T, O>(stream: DataStream<T>, spec: RemoteFunctionSpec): DataStream<O> => remote(stream, spec, "flatMap"),
};
