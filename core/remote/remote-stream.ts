/**
 * Stateless remote functions on a stream: a map (one output per record) or a
 * flatMap (any number), answered in batches per slice. Built on the async I/O
 * operator's batch mode, so the results commit with the slice's segment and a
 * failing record is retried, then dead-lettered, like a throwing local map.
 */

import { DataStream } from "../api/datastream.ts";
import type { AsyncBatch, BatchAnswers, BatchEnvelope } from "../operators/async-wait.ts";
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
  const batch: AsyncBatch = async (envelopes, site, limiter) => {
    const groups = cut(envelopes, size, codec);
    const call = { invoker: remote.invoker(), name: remote.name, kind, policy: remote.policy };
    const outcomes = await sendGroups(call, groups, `${uid()}/${site}`, limiter);
    return reassemble(envelopes, kind, groups, outcomes, codec);
  };
  return Object.assign(batch, { remoteTarget: remote.target, batchRecords: size } satisfies RemoteTargeted & {
    batchRecords: number;
  });
}

/** The event time of record `i` of `e` on the wire (`null`: untimed). */
function timeOf(e: BatchEnvelope, i: number): number | null {
  const t = e.times?.[i];
  return typeof t === "number" && !Number.isNaN(t) ? t : null;
}

/**
 * The slice's records (across its envelopes, in order) cut into groups of `size`;
 * a group has a `times` column only when one of its records is timed.
 */
function cut(envelopes: readonly BatchEnvelope[], size: number, codec: RemoteCodec): WireGroup[] {
  const groups: WireGroup[] = [];
  let values: unknown[] = [];
  let times: (number | null)[] | undefined;
  const plain = codec === IDENTITY;
  for (const e of envelopes) {
    const timed = e.times !== undefined;
    for (let i = 0; i < e.records.length; i++) {
      const time = timed ? timeOf(e, i) : null;
      if (time !== null && !times) times = new Array<number | null>(values.length).fill(null);
      times?.push(time);
      values.push(plain ? e.records[i] : codec.encode(e.records[i]));
      if (values.length === size) {
        groups.push(times ? { values, times } : { values });
        values = [];
        times = undefined;
      }
    }
  }
  if (values.length > 0) groups.push(times ? { values, times } : { values });
  return groups;
}

/**
 * Each envelope's answers, from the outcomes of the groups its records were cut into
 * (in order): columns, no object per record.
 */
function reassemble(
  envelopes: readonly BatchEnvelope[],
  kind: RemoteKind,
  groups: readonly WireGroup[],
  outcomes: readonly GroupOutcome[],
  codec: RemoteCodec,
): BatchAnswers[] {
  const single = singleOutput(kind);
  const plain = codec === IDENTITY;
  let gi = 0; // the group of the next record, and the record's index in it
  let j = 0;
  let failed: Map<number, string> | undefined;
  return envelopes.map((e) => {
    const values: unknown[] = []; // one entry a record (a failed one's: undefined)
    let errors: Map<number, unknown> | undefined;
    for (let i = 0; i < e.records.length; i++, j++) {
      while (j >= (groups[gi] as WireGroup).values.length) {
        gi++;
        j = 0;
        failed = undefined;
      }
      const o = outcomes[gi] as GroupOutcome;
      if (!o.ok) {
        errors ??= new Map();
        errors.set(i, o.error);
        values.push(undefined);
        continue;
      }
      if (j === 0 && o.result.errors?.length) failed = new Map(o.result.errors.map(([k, m]) => [k, m]));
      const error = failed?.get(j);
      if (error !== undefined) {
        errors ??= new Map();
        errors.set(i, new Error(error));
        values.push(undefined);
        continue;
      }
      const r = o.result.out[j];
      values.push(plain ? r : codec.decode(e.records[i], single ? [r] : (r as unknown[])));
    }
    return { values, many: !(single && plain), errors };
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
