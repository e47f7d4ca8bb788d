import { describe, expect, it } from "vitest";
import { SegmentConflictError } from "../../core/errors.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { Segment, StateChange, StateRef } from "../../core/ports/state-store.ts";

const TASK = "counter";

function segment(n: number, overrides: Partial<Segment> = {}): Segment {
  return { n, gen: 1, time: 0, positions: {}, outSeqs: {}, changes: [], outbox: [], sentThrough: 0, ...overrides };
}

function put(s: string, k: string, g: number, v: unknown): StateChange {
  return { s, k, g, v };
}

function del(s: string, k: string, g: number): StateChange {
  return { s, k, g, d: true };
}

function ref(s: string, k: string, g: number): StateRef {
  return { s, k, g };
}

async function appendAll(store: InMemoryStateStore, segments: readonly Segment[], task = TASK, partition = 0) {
  for (const seg of segments) await store.append(task, partition, seg);
}

describe("InMemoryStateStore append", () => {
  it("accepts segments 1, 2, 3 in order", async () => {
    // prepare
    const store = new InMemoryStateStore();

    // act
    await appendAll(store, [segment(1), segment(2), segment(3)]);

    // assess
    expect(store.segmentCount(TASK, 0)).toBe(3);
    expect(store.appends).toBe(3);
    expect((await store.readSegments(TASK, 0, 0)).map((s) => s.n)).toEqual([1, 2, 3]);
  });

  it.each([0, 2, -1, 1.5])("rejects %d as the first segment", async (n) => {
    // prepare
    const store = new InMemoryStateStore();

    // act
    const attempt = store.append(TASK, 0, segment(n));

    // assess
    await expect(attempt).rejects.toThrow(SegmentConflictError);
    expect(store.segmentCount(TASK, 0)).toBe(0);
  });

  it.each([1, 2, 4, 10])("rejects segment %d after segments 1..2", async (n) => {
    // prepare
    const store = new InMemoryStateStore();
    await appendAll(store, [segment(1), segment(2, { changes: [put("op/v", "sa", 3, "committed")] })]);

    // act
    const attempt = store.append(
      TASK,
      0,
      segment(n, { changes: [put("op/v", "sa", 3, "loser"), put("op/v", "sb", 4, "loser")] }),
    );

    // assess
    await expect(attempt).rejects.toThrow(SegmentConflictError);
    expect(store.segmentCount(TASK, 0)).toBe(2);
    expect(store.appends).toBe(2);
  });

  it("leaves segments and state untouched when an append conflicts", async () => {
    // prepare
    const store = new InMemoryStateStore();
    const winner = segment(1, { changes: [put("op/v", "sa", 3, "winner")] });
    await store.append(TASK, 0, winner);

    // act
    const error = await store
      .append(TASK, 0, segment(1, { changes: [put("op/v", "sa", 3, "loser"), put("op/v", "sb", 4, "loser")] }))
      .catch((e: unknown) => e);

    // assess
    expect(error).toBeInstanceOf(SegmentConflictError);
    expect((error as SegmentConflictError).reason).toBe("segment-conflict");
    expect((error as SegmentConflictError).retryable).toBe(true);
    expect(await store.readSegments(TASK, 0, 0)).toEqual([winner]);
    expect(await store.getState(TASK, [ref("op/v", "sa", 3), ref("op/v", "sb", 4)])).toEqual(["winner", undefined]);
    expect(await store.scanState(TASK, "op/v", 0, 127)).toEqual([["sa", "winner"]]);
  });

  it("numbers each partition and each task independently", async () => {
    // prepare
    const store = new InMemoryStateStore();

    // act
    await store.append(TASK, 0, segment(1));
    await store.append(TASK, 1, segment(1));
    await store.append("other", 0, segment(1));
    await store.append(TASK, 1, segment(2));

    // assess
    expect(store.segmentCount(TASK, 0)).toBe(1);
    expect(store.segmentCount(TASK, 1)).toBe(2);
    expect(store.segmentCount("other", 0)).toBe(1);
    expect(store.segmentCount("other", 1)).toBe(0);
  });
});

describe("InMemoryStateStore readSegments", () => {
  it.each([
    [0, [1, 2, 3, 4]],
    [1, [2, 3, 4]],
    [3, [4]],
    [4, []],
    [9, []],
    [-5, [1, 2, 3, 4]],
  ])("returns the segments numbered above %i", async (after, expected) => {
    // prepare
    const store = new InMemoryStateStore();
    await appendAll(
      store,
      [1, 2, 3, 4].map((n) => segment(n, { time: n * 10 })),
    );

    // act
    const tail = await store.readSegments(TASK, 0, after);

    // assess
    expect(tail.map((s) => s.n)).toEqual(expected);
    expect(tail.map((s) => s.time)).toEqual(expected.map((n) => n * 10));
  });

  it("returns nothing for a partition that never committed", async () => {
    // prepare
    const store = new InMemoryStateStore();
    await store.append(TASK, 0, segment(1));

    // act
    const tail = await store.readSegments(TASK, 1, 0);

    // assess
    expect(tail).toEqual([]);
  });
});

describe("InMemoryStateStore keyed state", () => {
  it("reflects the latest committed change per key, deletes included", async () => {
    // prepare
    const store = new InMemoryStateStore();
    await appendAll(store, [
      segment(1, { changes: [put("op/v", "sa", 1, 1), put("op/v", "sb", 2, 10), put("op/v", "sc", 3, 100)] }),
      segment(2, { changes: [put("op/v", "sa", 1, 2), del("op/v", "sb", 2)] }),
      segment(3, { changes: [put("op/v", "sa", 1, 3)] }),
    ]);

    // act
    const values = await store.getState(TASK, [
      ref("op/v", "sa", 1),
      ref("op/v", "sb", 2),
      ref("op/v", "sc", 3),
      ref("op/v", "missing", 4),
    ]);

    // assess
    expect(values).toEqual([3, undefined, 100, undefined]);
  });

  it("applies changes within one segment in order", async () => {
    // prepare
    const store = new InMemoryStateStore();
    const changes = [
      put("op/v", "sa", 1, "first"),
      del("op/v", "sa", 1),
      put("op/v", "sb", 2, "x"),
      del("op/v", "sb", 2),
    ];
    const revived = [del("op/v", "sb", 2), put("op/v", "sb", 2, "revived")];

    // act
    await store.append(TASK, 0, segment(1, { changes }));
    await store.append(TASK, 0, segment(2, { changes: revived }));

    // assess
    expect(await store.getState(TASK, [ref("op/v", "sa", 1), ref("op/v", "sb", 2)])).toEqual([undefined, "revived"]);
  });

  it("keeps state apart per task and per state id, and shares it across a task's partitions", async () => {
    // prepare
    const store = new InMemoryStateStore();
    await store.append(TASK, 0, segment(1, { changes: [put("op/a", "sk", 5, "a@p0")] }));
    await store.append(TASK, 1, segment(1, { changes: [put("op/b", "sk", 5, "b@p1")] }));
    await store.append("other", 0, segment(1, { changes: [put("op/a", "sk", 5, "other")] }));

    // act
    const mine = await store.getState(TASK, [ref("op/a", "sk", 5), ref("op/b", "sk", 5)]);
    const theirs = await store.getState("other", [ref("op/a", "sk", 5), ref("op/b", "sk", 5)]);
    const nobody = await store.getState("nobody", [ref("op/a", "sk", 5)]);

    // assess
    expect(mine).toEqual(["a@p0", "b@p1"]);
    expect(theirs).toEqual(["other", undefined]);
    expect(nobody).toEqual([undefined]);
  });

  it("keeps falsy values distinct from unset", async () => {
    // prepare
    const store = new InMemoryStateStore();
    const changes = [
      put("op/v", "s0", 0, 0),
      put("op/v", "s1", 0, ""),
      put("op/v", "s2", 0, false),
      put("op/v", "s3", 0, null),
    ];
    await store.append(TASK, 0, segment(1, { changes }));

    // act
    const values = await store.getState(
      TASK,
      changes.map((c) => ref(c.s, c.k, c.g)),
    );

    // assess
    expect(values).toEqual([0, "", false, null]);
  });

  it("scans one state id within an inclusive key-group range", async () => {
    // prepare
    const store = new InMemoryStateStore();
    await appendAll(store, [
      segment(1, {
        changes: [
          put("op/a", "s0", 0, "a0"),
          put("op/a", "s5", 5, "a5"),
          put("op/a", "s7", 7, "a7"),
          put("op/a", "s10", 10, "a10"),
          put("op/a", "s11", 11, "a11"),
          put("op/a", "s127", 127, "a127"),
          put("op/b", "s7", 7, "b7"),
          put("op/ab", "s7", 7, "ab7"),
          put("op", "s7", 7, "op7"),
        ],
      }),
      segment(2, { changes: [del("op/a", "s7", 7), put("op/a", "s8", 8, "a8")] }),
    ]);

    // act
    const inRange = await store.scanState(TASK, "op/a", 5, 10);
    const all = await store.scanState(TASK, "op/a", 0, 127);
    const single = await store.scanState(TASK, "op/b", 7, 7);
    const otherTask = await store.scanState("other", "op/a", 0, 127);

    // assess
    expect(new Map(inRange)).toEqual(
      new Map([
        ["s5", "a5"],
        ["s8", "a8"],
        ["s10", "a10"],
      ]),
    );
    expect(inRange).toHaveLength(3);
    expect(all.map(([k]) => k).sort()).toEqual(["s0", "s10", "s11", "s127", "s5", "s8"]);
    expect(single).toEqual([["s7", "b7"]]);
    expect(otherTask).toEqual([]);
  });
});

describe("InMemoryStateStore with copy", () => {
  it("is not affected by mutating a segment after appending it", async () => {
    // prepare
    const store = new InMemoryStateStore({ copy: true });
    const value = { count: 1, tags: ["a"] };
    const original = segment(1, { positions: { "up#0": 3 }, changes: [put("op/v", "sk", 2, value)] });
    const mutable = original as unknown as { positions: Record<string, number>; changes: StateChange[] };
    await store.append(TASK, 0, original);

    // act
    value.count = 99;
    value.tags.push("mutated");
    mutable.positions["up#0"] = 42;
    mutable.changes.push(put("op/v", "sx", 2, "smuggled"));

    // assess
    const [stored] = await store.readSegments(TASK, 0, 0);
    expect(stored?.positions).toEqual({ "up#0": 3 });
    expect(stored?.changes).toEqual([put("op/v", "sk", 2, { count: 1, tags: ["a"] })]);
    expect(await store.getState(TASK, [ref("op/v", "sk", 2), ref("op/v", "sx", 2)])).toEqual([
      { count: 1, tags: ["a"] },
      undefined,
    ]);
  });

  it("is not affected by mutating segments it returned", async () => {
    // prepare
    const store = new InMemoryStateStore({ copy: true });
    await store.append(TASK, 0, segment(1, { outSeqs: { "t#0": 1 }, changes: [put("op/v", "sk", 2, { count: 1 })] }));
    const [read] = (await store.readSegments(TASK, 0, 0)) as unknown as [
      { outSeqs: Record<string, number>; changes: { v: { count: number } }[] },
    ];

    // act
    read.outSeqs["t#0"] = 77;
    const change = read.changes[0];
    if (change) change.v.count = 77;
    read.changes.length = 0;

    // assess
    const [again] = await store.readSegments(TASK, 0, 0);
    expect(again?.outSeqs).toEqual({ "t#0": 1 });
    expect(again?.changes).toEqual([put("op/v", "sk", 2, { count: 1 })]);
    expect(await store.getState(TASK, [ref("op/v", "sk", 2)])).toEqual([{ count: 1 }]);
  });

  it("is not affected by mutating a value getState returned", async () => {
    // prepare
    const store = new InMemoryStateStore({ copy: true });
    await store.append(TASK, 0, segment(1, { changes: [put("op/v", "sk", 2, { count: 1 })] }));
    const [value] = (await store.getState(TASK, [ref("op/v", "sk", 2)])) as [{ count: number }];

    // act
    value.count = 55;

    // assess
    expect(await store.getState(TASK, [ref("op/v", "sk", 2)])).toEqual([{ count: 1 }]);
    expect((await store.readSegments(TASK, 0, 0))[0]?.changes).toEqual([put("op/v", "sk", 2, { count: 1 })]);
  });

  it("is not affected by mutating a value scanState returned", async () => {
    // prepare
    const store = new InMemoryStateStore({ copy: true });
    await store.append(TASK, 0, segment(1, { changes: [put("op/v", "sk", 2, { count: 1 })] }));
    const [[, value]] = (await store.scanState(TASK, "op/v", 0, 127)) as [[string, { count: number }]];

    // act
    value.count = 55;

    // assess
    expect(await store.scanState(TASK, "op/v", 0, 127)).toEqual([["sk", { count: 1 }]]);
    expect(await store.getState(TASK, [ref("op/v", "sk", 2)])).toEqual([{ count: 1 }]);
    expect((await store.readSegments(TASK, 0, 0))[0]?.changes).toEqual([put("op/v", "sk", 2, { count: 1 })]);
  });

  it("without copy, hands back the very objects it was given", async () => {
    // prepare
    const store = new InMemoryStateStore();
    const original = segment(1);

    // act
    await store.append(TASK, 0, original);
    const [read] = await store.readSegments(TASK, 0, 0);

    // assess
    expect(read).toBe(original);
  });
});
