/**
 * Stateless remote functions on a stream: a map (one output per record) or a
 * flatMap (any number), answered in batches per slice. Built on the async I/O
 * operator's batch mode, so the results commit with the slice's segment and a
 * failing record is retried, then dead-lettered, like a throwing local map.
 */

import { DataStream } from "../api/datastream.ts";
import type { AsyncBatch, BatchEnvelope, BatchOutcome } from "../operators/async-wait.ts";
import { sendGroups } from "./batches.ts";
import { type RemoteFunctionSpec, resolveRemote } from "./spec.ts";
import type { RemoteTargeted } from "./targets.ts";
import type { RemoteKind, WireGroup } from "./wire.ts";

/**
 * How records meet the wire: what is sent for a record, and what its outputs become
 * (SQL sends a row's arguments and appends the result to the row).
 */
export interface RemoteCodec {
  encode(value: unknown): unknown;
  decode(value: unknown, out: readonly unknown[]): readonly unknown[];
}

const IDENTITY: RemoteCodec = { encode: (v) => v, decode: (_v, out) => out };

/** The batch function of a stateless remote function: one group per envelope. */
export function remoteBatch(
  spec: RemoteFunctionSpec,
  kind: RemoteKind,
  uid: () => string,
  codec: RemoteCodec = IDENTITY,
): AsyncBatch {
  const remote = resolveRemote(spec);
  const batch: AsyncBatch = async (envelopes, site) => {
    const groups: WireGroup[] = envelopes.map((e) => ({
      records: e.records.map((value, i) => {
        const t = e.times?.[i];
        return { value: codec.encode(value), time: typeof t === "number" && !Number.isNaN(t) ? t : null };
      }),
    }));
    const call = { invoker: remote.invoker(), name: remote.name, kind, policy: remote.policy };
    const outcomes = await sendGroups(call, groups, `${uid()}/${site}`);
    return outcomes.map((o, k): BatchOutcome[] => {
      const n = (groups[k] as WireGroup).records.length;
      if (!o.ok) return Array.from({ length: n }, () => ({ ok: false, error: o.error }));
      const records = (envelopes[k] as BatchEnvelope).records;
      return o.result.results.map((r, i) =>
        "out" in r ? { ok: true, values: codec.decode(records[i], r.out) } : { ok: false, error: new Error(r.error) },
      );
    });
  };
  return Object.assign(batch, { remoteTarget: remote.target } satisfies RemoteTargeted);
}

function remote<T, O>(
  stream: DataStream<T>,
  spec: RemoteFunctionSpec,
  kind: RemoteKind,
  codec: RemoteCodec = IDENTITY,
): DataStream<O> {
  const { policy } = resolveRemote(spec); // checks the spec at plan time
  let name = spec.name;
  const batch = remoteBatch(spec, kind, () => name, codec);
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
  /** Any kind, with a codec between records and the wire (SQL's remote scalar functions). */
  withCodec: <T, O>(stream: DataStream<T>, spec: RemoteFunctionSpec, kind: RemoteKind, codec: RemoteCodec) =>
    remote<T, O>(stream, spec, kind, codec),
};
