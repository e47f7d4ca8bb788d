/**
 * A stateless remote function's batches: a slice's records are cut into groups of
 * `batchSize` across its envelopes, sent `concurrency` at a time, and each record
 * gets its own answer back in input order, whatever order the answers arrive in.
 */
import { describe, expect, it } from "vitest";
import { RemoteFunctionError } from "../../../core/errors.ts";
import type { BatchAnswers } from "../../../core/operators/async-wait.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { remoteBatch } from "../../../core/remote/remote-stream.ts";
import type { WireRequest } from "../../../core/remote/wire.ts";
import { answerMap } from "../../support/wire-functions.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Doubles; the first request answers last; a request holding `poison` fails. */
function invoker(poison?: number) {
  const calls: WireRequest[] = [];
  let inFlight = 0;
  let most = 0;
  const inv: RemoteInvoker = {
    target: "test",
    invoke: async (body) => {
      const r = JSON.parse(body) as WireRequest;
      calls.push(r);
      most = Math.max(most, ++inFlight);
      await sleep(calls.length === 1 ? 40 : 5);
      inFlight--;
      if (r.groups.some((g) => g.values.includes(poison))) throw new RemoteFunctionError("test", "poisoned");
      return answerMap(body, (v) => (v as number) * 2);
    },
  };
  return { inv, calls, most: () => most };
}

const envelopes = [{ records: [1, 2, 3, 4, 5], times: [10, 11, 12, 13, 14] }, { records: [6, 7, 8] }];

describe("remoteBatch", () => {
  it("cuts the slice into batchSize groups across envelopes, in flight together, answers in input order", async () => {
    const { inv, calls, most } = invoker();
    const spec = { name: "double", target: inv, batchSize: 3, concurrency: 3 };
    const out = await remoteBatch(spec, "map", () => "double@1")(envelopes, "p0/x");
    expect(calls.map((c) => c.groups.map((g) => g.values))).toEqual([[[1, 2, 3]], [[4, 5, 6]], [[7, 8]]]);
    expect(calls[1]?.groups[0]?.times).toEqual([13, 14, null]); // times travel when any is set
    expect(calls[2]?.groups[0]?.times).toBeUndefined();
    expect(calls.map((c) => c.id)).toEqual(["double@1/p0/x/0", "double@1/p0/x/1", "double@1/p0/x/2"]);
    expect(most()).toBe(3);
    expect(out).toEqual([
      { values: [2, 4, 6, 8, 10], many: false, errors: undefined },
      { values: [12, 14, 16], many: false, errors: undefined },
    ]);
  });

  it("fails only the records of a batch that failed", async () => {
    const { inv } = invoker(5);
    const spec = { name: "double", target: inv, batchSize: 3, retries: 0 };
    const out = await remoteBatch(spec, "map", () => "double@1")(envelopes, "p0/x");
    expect(out.flatMap((a) => a.values.map((_, i) => !a.errors?.has(i)))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  it("fails the records the function reported, by their index in their group, and decodes the rest", async () => {
    // Odd values fail; a flatMap answers each record's outputs as a list.
    const inv: RemoteInvoker = {
      target: "test",
      invoke: async (body) => {
        const r = JSON.parse(body) as WireRequest;
        const groups = r.groups.map((g) => {
          const errors = g.values.flatMap((v, i) => ((v as number) % 2 ? [[i, `odd ${v}`]] : []));
          return { out: g.values.map((v) => ((v as number) % 2 ? null : [v, v])), errors };
        });
        return JSON.stringify({ v: 2, id: r.id, groups });
      },
    };
    const codec = {
      encode: (v: unknown) => (v as number) + 1,
      decode: (v: unknown, out: readonly unknown[]) => [v, ...out],
    };
    const spec = { name: "twice", target: inv, batchSize: 3 };
    const out = await remoteBatch(spec, "flatMap", () => "twice@1", codec)(envelopes, "p0/x");
    expect(out.every((a) => a.many)).toBe(true);
    const shown = (a: BatchAnswers) =>
      a.values.map((v, i) => (a.errors?.has(i) ? (a.errors.get(i) as Error).message : v));
    expect(out.map(shown)).toEqual([
      [[1, 2, 2], "odd 3", [3, 4, 4], "odd 5", [5, 6, 6]],
      ["odd 7", [7, 8, 8], "odd 9"],
    ]);
  });
});
