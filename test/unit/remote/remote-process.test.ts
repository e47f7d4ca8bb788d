/**
 * A keyed remote function's answers when a slice ends between envelopes (an epoch
 * ended there): the key's state after the records processed is written, so the
 * next slice counts on from there, and a record whose answer assumed a skipped one
 * is refused instead of emitted.
 */
import { describe, expect, it } from "vitest";
import type { KeyedContext, RuntimeContext } from "../../../core/api/functions.ts";
import type { Key } from "../../../core/keys.ts";
import type { KeyedPrefetch, PrefetchingFunction } from "../../../core/operators/prefetch.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { remoteProcess } from "../../../core/remote/remote-process.ts";
import type { WireRequest } from "../../../core/remote/wire.ts";
import { answerProcess } from "../../support/wire-functions.ts";

const requests: WireRequest[] = [];
const counter: RemoteInvoker = {
  target: "in-process",
  invoke: async (body) => {
    requests.push(JSON.parse(body) as WireRequest);
    return answerProcess(body, (key, state, v) => {
      const n = ((state as number | null) ?? 0) + 1;
      return [n, [{ key, n, v }]];
    });
  },
};

/** The function, with a one-key state and what it emitted. */
function harness() {
  const fn = remoteProcess<string, { n: number; v: string }>({ name: "count", target: counter });
  fn.open?.({ operator: "counter", job: "j" } as RuntimeContext);
  let state: unknown;
  const out: { n: number; v: string }[] = [];
  const ctx = {
    emit: (o: { n: number; v: string }) => out.push(o),
    state: { remote: { update: (s: unknown) => (state = s), clear: () => (state = undefined) } },
  } as unknown as KeyedContext<Key, never, { n: number; v: string }>;
  const pf = fn as unknown as PrefetchingFunction;
  const envelope = (values: string[]) => ({
    records: values,
    items: values.map((value) => ({ key: "k", enc: "k", value, time: undefined })),
  });
  const prefetch = (envelopes: ReturnType<typeof envelope>[]) =>
    pf.prefetch({ site: "p0/x", envelopes, stateOf: () => state } satisfies KeyedPrefetch);
  const process = (e: ReturnType<typeof envelope>) =>
    e.records.forEach((v, i) => {
      pf.select(e.records, i);
      fn.processElement(v, ctx);
    });
  return { out, prefetch, process, envelope, state: () => state };
}

describe("remoteProcess", () => {
  it("writes the state at the end of each envelope: a slice that stops after the first counts on from there", async () => {
    const h = harness();
    const a = h.envelope(["a1", "a2"]);
    const b = h.envelope(["b1", "b2", "b3"]);
    requests.length = 0;
    await h.prefetch([a, b]);
    expect(requests[0]?.groups[0]?.cuts).toEqual([2]);
    h.process(a); // the slice ends here; b waits for the next one
    expect(h.state()).toBe(2);
    await h.prefetch([b]);
    h.process(b);
    expect(h.out.map((o) => `${o.v}:${o.n}`)).toEqual(["a1:1", "a2:2", "b1:3", "b2:4", "b3:5"]);
    expect(h.state()).toBe(5);
  });

  it("refuses a record whose answer assumed an earlier record the slice skipped", async () => {
    const h = harness();
    const a = h.envelope(["a1"]);
    const b = h.envelope(["b1"]);
    await h.prefetch([a, b]);
    expect(() => h.process(b)).toThrow(/assumed a record this slice skipped/);
    expect(h.out).toEqual([]);
  });
});
