/**
 * The segment payload protocol of `OffloadingStateStore` (core/log/payload.ts): the
 * object is written before the append that names it, a lost append deletes it,
 * folding and voiding delete what they drop (orphans included, at a fold), a reader
 * that finds an object gone reads the log again, and small payloads stay inline.
 */

import { describe, expect, it } from "vitest";
import { SegmentConflictError } from "../../core/errors.ts";
import { OffloadingStateStore } from "../../core/log/offloading-store.ts";
import { encodeJson, segmentObjectKey } from "../../core/log/payload.ts";
import { InMemoryBlobStore } from "../../core/memory/in-memory-blob-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { Segment } from "../../core/ports/state-store.ts";

const seg = (n: number, over: Partial<Segment> = {}): Segment => ({
  n,
  gen: 1,
  time: n,
  positions: { in: n },
  outSeqs: { "b#0": n },
  changes: [{ s: "op/count", k: `k${n}`, g: 3, v: n }],
  outbox: [
    {
      to: { task: "b", partition: 0 },
      envelope: { gen: 1, from: "a#0", seq: n, records: [{ n, text: "x".repeat(50) }] },
    },
  ],
  sentThrough: n - 1,
  sink: { out: [{ n }] },
  ...over,
});

function stores(inlineMaxBytes = 0) {
  const blobs = new InMemoryBlobStore();
  const inner = new InMemoryStateStore({ copy: true });
  const store = new OffloadingStateStore(inner, blobs, { job: "j", inlineMaxBytes });
  return { blobs, inner, store };
}

describe("OffloadingStateStore", () => {
  it("writes the payload object before the append, keeps only its key in the wrapped store, and reads segments whole", async () => {
    const { blobs, inner, store } = stores();
    let seen: string[] = [];
    const append = inner.append.bind(inner);
    inner.append = async (t, p, s) => {
      seen = blobs.keys(); // what exists when the conditional append runs
      return append(t, p, s);
    };
    await store.append("a", 0, seg(1));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^j\/a\/0\/s000000000001-/);
    const stub = (await inner.readSegments("a", 0, 0))[0] as Segment;
    expect(stub.payload).toBe(seen[0]);
    expect(stub.outbox).toEqual([]);
    expect(stub.sink).toBeUndefined();
    expect(stub.changes).toEqual(seg(1).changes);
    expect(await store.readSegments("a", 0, 0)).toEqual([seg(1)]);
  });

  it("keeps a payload of at most the threshold inline, and a segment without payload as it is", async () => {
    const { blobs, inner, store } = stores(encodeJson({ outbox: seg(1).outbox, sink: seg(1).sink }).length);
    await store.append("a", 0, seg(1));
    await store.append("a", 0, seg(2, { outbox: [], sink: undefined }));
    expect(blobs.keys()).toEqual([]);
    expect(await inner.readSegments("a", 0, 0)).toEqual([seg(1), seg(2, { outbox: [], sink: undefined })]);
    await store.append("a", 0, seg(3, { sink: { out: Array.from({ length: 50 }, (_, i) => ({ i })) } }));
    expect(blobs.keys()).toHaveLength(1);
  });

  it("deletes the object of an append that lost, and rethrows", async () => {
    const { blobs, store } = stores();
    await store.append("a", 0, seg(1));
    await expect(store.append("a", 0, seg(1, { time: 99 }))).rejects.toBeInstanceOf(SegmentConflictError);
    expect(blobs.keys()).toHaveLength(1);
    expect((await store.readSegments("a", 0, 0))[0]?.time).toBe(1);
  });

  it("keeps the object when the lost append was its own write (a retry after a lost response)", async () => {
    const { blobs, inner, store } = stores();
    const append = inner.append.bind(inner);
    inner.append = async (t, p, seg) => {
      await append(t, p, seg); // committed, but the answer was lost and the retry conflicts
      throw new SegmentConflictError(t, p, seg.n);
    };
    await expect(store.append("a", 0, seg(1))).rejects.toBeInstanceOf(SegmentConflictError);
    expect(blobs.keys()).toHaveLength(1);
    const cold = new OffloadingStateStore(inner, blobs, { job: "j" });
    expect(await cold.readSegments("a", 0, 0)).toEqual([seg(1)]);
  });

  it("a fold deletes the folded payloads and every orphan at or below the new base, nothing above", async () => {
    const { blobs, store } = stores();
    for (let n = 1; n <= 4; n++) await store.append("a", 0, seg(n));
    // Orphans: a crashed writer's object of a folded slot, and one of a slot above the base.
    await blobs.put(segmentObjectKey(store.scope("a", 0), 2, "crashed"), Buffer.from("x"));
    await blobs.put(segmentObjectKey(store.scope("a", 0), 4, "crashed"), Buffer.from("x"));
    expect(await store.compact("a", 0, 3)).toBe(3);
    const left = blobs.keys();
    expect(left.map((k) => k.slice(0, "j/a/0/s000000000004".length))).toEqual([
      "j/a/0/s000000000004",
      "j/a/0/s000000000004",
    ]);
    expect(await store.readSegments("a", 0, 3)).toEqual([seg(4)]);
  });

  it("truncate deletes the payloads of the voided segments; a reset deletes every object of the task", async () => {
    const { blobs, store } = stores();
    for (let n = 1; n <= 3; n++) await store.append("a", 0, seg(n));
    await store.append("b", 0, seg(1));
    await store.truncate("a", 0, 1, 2);
    expect(blobs.keys().filter((k) => k.startsWith("j/a/"))).toHaveLength(1);
    expect(await store.readSegments("a", 0, 0)).toEqual([seg(1)]);
    await store.resetTask("a");
    expect(blobs.keys().every((k) => k.startsWith("j/b/"))).toBe(true);
    expect(blobs.keys()).toHaveLength(1);
  });

  it("reads only the payloads a caller needs: a view's unsent outboxes, or none", async () => {
    const { blobs, inner, store } = stores();
    // seg(n) proves n - 1 sent: of 1..3 only segment 3 is not proven sent.
    for (let n = 1; n <= 3; n++) await store.append("a", 0, seg(n));
    const reader = new OffloadingStateStore(inner, blobs, { job: "j" }); // a cold instance: no cached objects
    const gets = blobs.requests.get;
    const unsent = await reader.readSegments("a", 0, 0, "unsent");
    expect(blobs.requests.get - gets).toBe(1);
    expect(unsent.map((s) => s.outbox.length)).toEqual([0, 0, 1]);
    expect(unsent[2]).toEqual(seg(3));
    expect(unsent.every((s) => s.payload === undefined)).toBe(true);
    const none = await reader.readSegments("a", 0, 0, "none");
    expect(blobs.requests.get - gets).toBe(1);
    expect(none.map((s) => [s.n, s.outbox.length, s.sink, s.payload])).toEqual([
      [1, 0, undefined, undefined],
      [2, 0, undefined, undefined],
      [3, 0, undefined, undefined],
    ]);
    expect(none.map((s) => s.changes)).toEqual([1, 2, 3].map((n) => seg(n).changes));
  });

  it("a reader whose object vanished under it (a fold meanwhile) reads the log again", async () => {
    const { blobs, store } = stores();
    for (let n = 1; n <= 3; n++) await store.append("a", 0, seg(n));
    const fresh = new OffloadingStateStore(
      (store as unknown as { inner: InMemoryStateStore }).inner,
      {
        ...blobs,
        put: (k, b) => blobs.put(k, b),
        list: (p) => blobs.list(p),
        delete: (ks) => blobs.delete(ks),
        get: async (k) => {
          // The slow reader: a compaction folds (and deletes) while its first GET is on the way.
          if (!folded) {
            folded = true;
            await store.compact("a", 0, 2);
          }
          return blobs.get(k);
        },
      },
      { job: "j" },
    );
    let folded = false;
    expect(await fresh.readSegments("a", 0, 0)).toEqual([seg(3)]);
  });
});
