/**
 * A remote function's defaults: how many requests are in flight per partition
 * depends on what is called (pipelined HTTP: more; a Lambda function: each one a
 * concurrent invocation).
 */
import { describe, expect, it } from "vitest";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { HTTP_CONCURRENCY, resolveRemote } from "../../../core/remote/spec.ts";

const invoker: RemoteInvoker = { target: "test", invoke: async () => "" };

describe("resolveRemote", () => {
  it("puts HTTP_CONCURRENCY requests in flight to an HTTP target, 4 to a Lambda function or an invoker", () => {
    expect(HTTP_CONCURRENCY).toBeGreaterThan(4);
    expect(resolveRemote({ name: "f", target: "http://127.0.0.1:1/" }).policy.concurrency).toBe(HTTP_CONCURRENCY);
    expect(resolveRemote({ name: "f", target: "https://example.com/f" }).policy.concurrency).toBe(HTTP_CONCURRENCY);
    expect(resolveRemote({ name: "f", target: "score" }).policy.concurrency).toBe(4);
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:score";
    expect(resolveRemote({ name: "f", target: arn }).policy.concurrency).toBe(4);
    expect(resolveRemote({ name: "f", target: invoker }).policy.concurrency).toBe(4);
  });

  it("keeps a concurrency the job gives, and refuses one below 1", () => {
    expect(resolveRemote({ name: "f", target: "http://127.0.0.1:1/", concurrency: 2 }).policy.concurrency).toBe(2);
    expect(resolveRemote({ name: "f", target: "score", concurrency: 9 }).policy.concurrency).toBe(9);
    expect(() => resolveRemote({ name: "f", target: "http://127.0.0.1:1/", concurrency: 0 })).toThrow(/concurrency/);
  });
});
