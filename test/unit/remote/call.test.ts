/**
 * One remote call and the batching policy, against invokers in the test: retries with
 * backoff, the timeout, responses out of contract, whole key groups per request.
 */
import { describe, expect, it } from "vitest";
import { Limiter } from "../../../core/concurrency.ts";
import { RemoteFunctionError } from "../../../core/errors.ts";
import { sendGroups } from "../../../core/remote/batches.ts";
import { callRemote } from "../../../core/remote/call.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { WIRE_VERSION, type WireRequest } from "../../../core/remote/wire.ts";

/** Answers `map` requests with each value doubled; `fail(n)` decides whether call n (from 1) fails. */
function doubler(fail: (n: number) => "error" | "hang" | "v1" | undefined = () => undefined) {
  const calls: WireRequest[] = [];
  const invoker: RemoteInvoker = {
    target: "test",
    invoke: async (body, signal) => {
      const r = JSON.parse(body) as WireRequest;
      calls.push(r);
      const f = fail(calls.length);
      if (f === "error") throw new RemoteFunctionError("test", "crashed");
      if (f === "hang")
        await new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
      const groups = r.groups.map((g) => ({ out: g.values.map((v) => (v as number) * 2) }));
      return JSON.stringify({ v: f === "v1" ? 1 : WIRE_VERSION, id: r.id, groups });
    },
  };
  return { invoker, calls };
}

const request = (values: number[]): WireRequest => ({
  v: WIRE_VERSION,
  id: "j/op/p0/x/0",
  function: "double",
  kind: "map",
  groups: [{ values }],
});

describe("callRemote", () => {
  it("retries a failed call with backoff and returns the answer", async () => {
    const { invoker, calls } = doubler((n) => (n <= 2 ? "error" : undefined));
    const t0 = Date.now();
    const r = await callRemote(invoker, request([1, 2]), { timeoutMs: 1000, retries: 2, backoffMs: 20 });
    expect(r.groups[0]?.out).toEqual([2, 4]);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.id === "j/op/p0/x/0")).toBe(true); // a retry repeats the idempotency key
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20 + 40 - 5); // 20 ms, then 40 ms
  });

  it("gives up after its retries with the last error", async () => {
    const { invoker, calls } = doubler(() => "error");
    await expect(callRemote(invoker, request([1]), { timeoutMs: 1000, retries: 1, backoffMs: 1 })).rejects.toThrow(
      /crashed/,
    );
    expect(calls).toHaveLength(2);
  });

  it("aborts a call past its timeout, then retries it", async () => {
    const { invoker, calls } = doubler((n) => (n === 1 ? "hang" : undefined));
    const r = await callRemote(invoker, request([3]), { timeoutMs: 50, retries: 1, backoffMs: 1 });
    expect(r.groups[0]?.out).toEqual([6]);
    expect(calls).toHaveLength(2);
    const hung = doubler(() => "hang");
    await expect(callRemote(hung.invoker, request([3]), { timeoutMs: 30, retries: 0, backoffMs: 1 })).rejects.toThrow(
      /no answer within 30 ms/,
    );
  });

  it("refuses another wire version without retrying, and a wrong number of results", async () => {
    const { invoker, calls } = doubler(() => "v1");
    await expect(callRemote(invoker, request([1]), { timeoutMs: 1000, retries: 3, backoffMs: 1 })).rejects.toThrow(
      /wire version 1, riffle speaks 2/,
    );
    expect(calls).toHaveLength(1);
    const short: RemoteInvoker = {
      target: "short",
      invoke: async (body) =>
        JSON.stringify({ v: WIRE_VERSION, id: (JSON.parse(body) as WireRequest).id, groups: [{ out: [] }] }),
    };
    await expect(callRemote(short, request([1]), { timeoutMs: 1000, retries: 0, backoffMs: 1 })).rejects.toThrow(
      /group 0 has 0 outputs for 1 records/,
    );
  });
});

describe("sendGroups", () => {
  it("sends whole groups, at most batchSize records a request (a larger group alone), each batch its own id", async () => {
    const { invoker, calls } = doubler((n) => (n === 2 ? "error" : undefined));
    const groups = [3, 2, 6, 1].map((n, g) => ({ values: Array.from({ length: n }, (_, i) => g * 10 + i) }));
    const policy = { batchSize: 5, concurrency: 1, timeoutMs: 1000, retries: 0, backoffMs: 1 };
    const out = await sendGroups({ invoker, name: "double", kind: "map", policy }, groups, "base");
    expect(calls.map((c) => c.groups.map((g) => g.values.length))).toEqual([[3, 2], [6], [1]]);
    expect(calls.map((c) => c.id)).toEqual(["base/0", "base/1", "base/2"]);
    expect(out.map((o) => o.ok)).toEqual([true, true, false, true]); // the second request failed: its group's outcome is its error
    expect(out[3]?.ok && out[3].result.out).toEqual([60]);
  });

  it("shares a limiter across calls: at most its limit in flight, a call's requests before a later call's", async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const invoker: RemoteInvoker = {
      target: "test",
      invoke: async (body) => {
        const r = JSON.parse(body) as WireRequest;
        order.push(r.id);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return JSON.stringify({ v: WIRE_VERSION, id: r.id, groups: r.groups.map((g) => ({ out: g.values })) });
      },
    };
    const policy = { batchSize: 1, concurrency: 3, timeoutMs: 1000, retries: 0, backoffMs: 1 };
    const site = { invoker, name: "same", kind: "map" as const, policy };
    const groups = (n: number) => Array.from({ length: n }, (_, i) => ({ values: [i] }));
    const limiter = new Limiter(3);
    const [a, b] = await Promise.all([
      sendGroups(site, groups(4), "a", limiter),
      sendGroups(site, groups(4), "b", limiter),
    ]);
    expect(most).toBe(3);
    expect(order).toEqual(["a/0", "a/1", "a/2", "a/3", "b/0", "b/1", "b/2", "b/3"]);
    expect([...a, ...b].every((o) => o.ok)).toBe(true);
  });
});
