/**
 * Stateless remote functions on a stream: a map (one output per record) or a
 * flatMap (any number), answered in batches per slice. Built on the async I/O
 * operator's batch mode, so the results commit with the slice's segment and a
 * failing record is retried, then dead-lettered, like a throwing local map.
 */

import { DataStream } from "../api/datastream.ts";
import type { AsyncBatch, BatchEnvelope, BatchOutcome } from "../operators/async-wait.ts";
import { type GroupOutcome, sendGroups } from "./batches.ts";
import { type RemoteFunctionSpec, resolveRemote } from "./spec.ts";
import type { RemoteTargeted } from "./targets.ts";
import { type RemoteKind, singleOutput, type WireGroup } from "./wire.ts";

/**
 * How records meet the wire: what is sent for a record, and what its outputs become
 * (SQL sends a row's arguments and appends the result to the row).
 */
export interface RemoteCodec {
  encode(value: unknown): unknown;
  decode(value: unknown, out: readonly unknown[]): readonly unknown[];
}

const IDENTITY: RemoteCodec = { encode: (v) => v, decode: (_v, out) => out };

/**
 * The batch function of a stateless remote function. A stateless record needs
 * nothing of its neighbours, so the slice's records (across its envelopes) are cut
 * into groups of `batchSize`, one request each, `concurrency` in flight: riffle
 * encodes and decodes some while the function works on others.
 */
export function remoteBatch(
  spec: RemoteFunctionSpec,
  kind: RemoteKind,
  uid: () => string,
  codec: RemoteCodec = IDENTITY,
): AsyncBatch {
  const remote = resolveRemote(spec);
  const size = remote.policy.batchSize;
  const batch: AsyncBatch = async (envelopes, site) => {
    const groups: WireGroup[] = [];
    let values: unknown[] = [];
    let times: (number | null)[] = [];
    let timed = false;
    const close = () => {
      groups.push(timed ? { values, times } : { values });
      values = [];
      times = [];
      timed = false;
    };
    for (const e of envelopes) {
      for (let i = 0; i < e.records.length; i++) {
        const t = e.times?.[i];
        const time = typeof t === "number" && !Number.isNaN(t) ? t : null;
        values.push(codec.encode(e.records[i]));
        times.push(time);
        timed ||= time !== null;
        if (values.length === size) close();
      }
    }
    if (values.length > 0) close();
    const call = { invoker: remote.invoker(), name: remote.name, kind, policy: remote.policy };
    const outcomes = await sendGroups(call, groups, `${uid()}/${site}`);
    return reassemble(envelopes, kind, groups, outcomes, codec);
  };
  return Object.assign(batch, { remoteTarget: remote.target } satisfies RemoteTargeted);
}

/** Each envelope's record outcomes, from the outcomes of the groups its records were cut into (in order). */
function reassemble(
  envelopes: readonly BatchEnvelope[],
  kind: RemoteKind,
  groups: readonly WireGroup[],
  outcomes: readonly GroupOutcome[],
  codec: RemoteCodec,
): BatchOutcome[][] {
  const single = singleOutput(kind);
  const plain = codec === IDENTITY;
  const flat: BatchOutcome[] = [];
  outcomes.forEach((o, gi) => {
    if (!o.ok) {
      for (let i = (groups[gi] as WireGroup).values.length; i > 0; i--) flat.push({ ok: false, error: o.error });
      return;
    }
    const start = flat.length;
    if (single && plain) for (const value of o.result.out) flat.push({ ok: true, value });
    else for (const r of o.result.out) flat.push({ ok: true, many: single ? [r] : (r as unknown[]) });
    for (const [i, error] of o.result.errors ?? []) flat[start + i] = { ok: false, error: new Error(error) };
  });
  let at = 0;
  return envelopes.map((e) => {
    const mine = flat.slice(at, at + e.records.length);
    at += e.records.length;
    if (!plain)
      mine.forEach((r, i) => {
        if (r.ok && r.many) mine[i] = { ok: true, many: codec.decode(e.records[i], r.many) };
      });
    return mine;
  });
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
