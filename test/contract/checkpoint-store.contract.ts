/**
 * The `CheckpointStore` contract: the behaviour every implementation must share,
 * written once and run against each of them (see `stores.test.ts`).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AbortReason,
  type CheckpointAck,
  type CheckpointManifest,
  type CheckpointStore,
  type FinishedAck,
  type JobRecord,
  type Savepoint,
  type SavepointInfo,
} from "../../core/ports/checkpoint-store.ts";

/** A fresh, empty store; `close` releases it after the test. */
export type MakeCheckpointStore = () => Promise<{ store: CheckpointStore; close?: () => void }>;

function record(o: Partial<JobRecord> = {}): JobRecord {
  return {
    job: "j",
    generation: 1,
    nextCheckpoint: 1,
    lastCompleted: 0,
    parallelism: { src: 2, sink: 1 },
    failures: 0,
    ...o,
  };
}
function manifest(id: number, o: Partial<CheckpointManifest> = {}): CheckpointManifest {
  return { job: "j", id, generation: 1, status: "pending", triggeredAt: 100 * id, parallelism: { src: 2 }, ...o };
}
function ack(o: Partial<CheckpointAck> = {}): CheckpointAck {
  return { checkpoint: 1, task: "t", partition: 0, segment: 5, alignmentMs: 2, bytes: 100, time: 1000, ...o };
}
function fin(o: Partial<FinishedAck> = {}): FinishedAck {
  return { task: "t", partition: 0, segment: 5, generation: 1, ...o };
}
function savepoint(name: string, o: Partial<Savepoint> = {}): Savepoint {
  return {
    job: "j",
    name,
    createdAt: 1000,
    checkpoint: 3,
    maxParallelism: 128,
    parallelism: { src: 2, counter: 4 },
    values: 3,
    sources: { src: { "split-0": { position: 10, done: false }, "split-1": { position: 7, done: true } } },
    state: {
      counter: [
        { s: "count/n", k: "a", g: 1, v: 1 },
        { s: "count/n", k: "b", g: 90, v: { nested: [1, null, "x"] } },
        { s: "timers/t", k: "a", g: 1, v: null },
      ],
      empty: [],
    },
    ...o,
  };
}
function info(sp: Savepoint): SavepointInfo {
  const { sources: _sources, state: _state, ...rest } = sp;
  return rest;
}
function sortAcks<T extends { task: string; partition: number }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.partition - b.partition));
}

/** Defines the contract suite for the store `make` creates. */
export function checkpointStoreContract(name: string, make: MakeCheckpointStore): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    let store: CheckpointStore;
    let close: (() => void) | undefined;

    beforeEach(async () => {
      const made = await make();
      store = made.store;
      close = made.close;
    });
    afterEach(() => {
      close?.();
    });

    describe("job record", () => {
      it("loadJob is undefined for a job that never ran", async () => {
        expect(await store.loadJob("j")).toBeUndefined();
      });

      it("saveJob without an expectation creates the record only when none exists", async () => {
        const r = record();
        expect(await store.saveJob(r, undefined)).toBe(true);
        expect(await store.loadJob("j")).toEqual(r);
        expect(await store.saveJob(record({ generation: 9, failures: 3 }), undefined)).toBe(false);
        expect(await store.loadJob("j")).toEqual(r);
      });

      it("saveJob replaces the record only when generation and checkpoint counter match", async () => {
        await store.saveJob(record(), undefined);
        const r2 = record({ nextCheckpoint: 2, parallelism: { src: 3 } });
        expect(await store.saveJob(r2, { generation: 1, nextCheckpoint: 1 })).toBe(true);
        expect(await store.loadJob("j")).toEqual(r2);
        const r3 = record({ generation: 2, nextCheckpoint: 2, lastCompleted: 1, failures: 1 });
        expect(await store.saveJob(r3, { generation: 1, nextCheckpoint: 1 })).toBe(false);
        expect(await store.saveJob(r3, { generation: 2, nextCheckpoint: 2 })).toBe(false);
        expect(await store.loadJob("j")).toEqual(r2);
        expect(await store.saveJob(r3, { generation: 1, nextCheckpoint: 2 })).toBe(true);
        expect(await store.loadJob("j")).toEqual(r3);
      });

      it("saveJob with an expectation fails when there is no record", async () => {
        expect(await store.saveJob(record(), { generation: 0, nextCheckpoint: 0 })).toBe(false);
        expect(await store.saveJob(record(), { generation: 1, nextCheckpoint: 1 })).toBe(false);
        expect(await store.loadJob("j")).toBeUndefined();
      });

      it("keeps one record per job", async () => {
        await store.saveJob(record(), undefined);
        const k = record({ job: "k", generation: 5 });
        expect(await store.saveJob(k, undefined)).toBe(true);
        expect(await store.loadJob("j")).toEqual(record());
        expect(await store.loadJob("k")).toEqual(k);
      });
    });

    describe("manifests", () => {
      it("putManifest writes and replaces; getManifest reads", async () => {
        await store.putManifest(manifest(1));
        expect(await store.getManifest("j", 1)).toEqual(manifest(1));
        const done = manifest(1, {
          status: "completed",
          completedAt: 150,
          durationMs: 50,
          alignmentMs: 7,
          bytes: 1234,
          cut: { "src#0": 4, "src#1": 6, "sink#0": 9 },
          final: true,
        });
        await store.putManifest(done);
        expect(await store.getManifest("j", 1)).toEqual(done);
        expect(await store.getManifest("j", 2)).toBeUndefined();
        expect(await store.getManifest("k", 1)).toBeUndefined();
      });

      it("listManifests returns a job's manifests ascending by id", async () => {
        const aborted = manifest(3, { status: "aborted", reason: AbortReason.Timeout });
        await store.putManifest(aborted);
        await store.putManifest(manifest(1));
        await store.putManifest(manifest(12));
        await store.putManifest(manifest(2));
        await store.putManifest(manifest(1, { job: "k" }));
        expect(await store.listManifests("j")).toEqual([manifest(1), manifest(2), aborted, manifest(12)]);
        expect(await store.listManifests("k")).toEqual([manifest(1, { job: "k" })]);
        expect(await store.listManifests("none")).toEqual([]);
      });
    });

    describe("acks", () => {
      it("keeps the first ack of a partition and checkpoint", async () => {
        await store.ack("j", ack());
        await store.ack("j", ack({ segment: 9, time: 2000 }));
        expect(await store.acks("j", 1)).toEqual([ack()]);
      });

      it("returns the acks of one checkpoint of one job", async () => {
        await store.ack("j", ack({ partition: 1, segment: 6 }));
        await store.ack("j", ack());
        await store.ack("j", ack({ task: "sink", segment: 3 }));
        await store.ack("j", ack({ checkpoint: 2, segment: 8 }));
        await store.ack("k", ack({ segment: 1 }));
        expect(sortAcks(await store.acks("j", 1))).toEqual([
          ack({ task: "sink", segment: 3 }),
          ack(),
          ack({ partition: 1, segment: 6 }),
        ]);
        expect(await store.acks("j", 2)).toEqual([ack({ checkpoint: 2, segment: 8 })]);
        expect(await store.acks("k", 1)).toEqual([ack({ segment: 1 })]);
        expect(await store.acks("j", 3)).toEqual([]);
        expect(await store.acks("none", 1)).toEqual([]);
      });
    });

    describe("finished", () => {
      it("keeps the first report of a partition per generation", async () => {
        await store.finished("j", fin());
        await store.finished("j", fin({ segment: 6 }));
        await store.finished("j", fin({ partition: 1, segment: 2 }));
        await store.finished("j", fin({ generation: 2, segment: 7 }));
        await store.finished("k", fin({ segment: 1 }));
        expect(sortAcks(await store.finishedPartitions("j", 1))).toEqual([fin(), fin({ partition: 1, segment: 2 })]);
        expect(await store.finishedPartitions("j", 2)).toEqual([fin({ generation: 2, segment: 7 })]);
        expect(await store.finishedPartitions("j", 3)).toEqual([]);
        expect(await store.finishedPartitions("k", 1)).toEqual([fin({ segment: 1 })]);
      });
    });

    describe("readRound (stores that have it)", () => {
      it("reads the record, the acks of the checkpoint and later ones, and every finished report, of one job", async () => {
        const read = store.readRound?.bind(store);
        if (!read) return; // optional: the round then reads each on its own
        expect(await read("j", 2)).toEqual({ record: undefined, acks: [], finished: [] });
        await store.saveJob(record(), undefined);
        await store.putManifest(manifest(2));
        for (const checkpoint of [1, 2, 3, 10]) await store.ack("j", ack({ checkpoint, segment: checkpoint }));
        await store.ack("j", ack({ checkpoint: 2, partition: 1, segment: 4 }));
        await store.ack("k", ack({ checkpoint: 2 }));
        await store.finished("j", fin());
        await store.finished("j", fin({ generation: 2, segment: 7 }));
        await store.finished("k", fin({ segment: 1 }));
        const r = await read("j", 2);
        expect(r.record).toEqual(record());
        const byCheckpoint = [...r.acks].sort((a, b) => a.checkpoint - b.checkpoint || a.partition - b.partition);
        expect(byCheckpoint).toEqual([
          ack({ checkpoint: 2, segment: 2 }),
          ack({ checkpoint: 2, partition: 1, segment: 4 }),
          ack({ checkpoint: 3, segment: 3 }),
          ack({ checkpoint: 10, segment: 10 }),
        ]);
        expect([...r.finished].sort((a, b) => a.generation - b.generation)).toEqual([
          fin(),
          fin({ generation: 2, segment: 7 }),
        ]);
      });
    });

    describe("savepoints", () => {
      it("putSavepoint stores a savepoint and getSavepoint returns all of it", async () => {
        const sp = savepoint("before-upgrade");
        expect(await store.putSavepoint(sp)).toBe(true);
        expect(await store.getSavepoint("j", "before-upgrade")).toEqual(sp);
        expect(await store.getSavepoint("j", "other")).toBeUndefined();
        expect(await store.getSavepoint("k", "before-upgrade")).toBeUndefined();
      });

      it("putSavepoint refuses a name the job already has and writes nothing", async () => {
        const sp = savepoint("s1");
        await store.putSavepoint(sp);
        const rival = savepoint("s1", {
          createdAt: 5,
          checkpoint: 9,
          values: 1,
          state: { other: [{ s: "x/y", k: "z", g: 0, v: 0 }] },
          sources: {},
        });
        expect(await store.putSavepoint(rival)).toBe(false);
        expect(await store.getSavepoint("j", "s1")).toEqual(sp);
        expect(await store.listSavepoints("j")).toEqual([info(sp)]);
        const elsewhere = savepoint("s1", { job: "k", createdAt: 7 });
        expect(await store.putSavepoint(elsewhere)).toBe(true);
        expect(await store.getSavepoint("k", "s1")).toEqual(elsewhere);
      });

      it("listSavepoints returns infos without sources or state, oldest first, ties by name", async () => {
        const b = savepoint("b", { createdAt: 200 });
        const a = savepoint("a", { createdAt: 200 });
        const c = savepoint("c", { createdAt: 100, values: 0, state: {} });
        await store.putSavepoint(b);
        await store.putSavepoint(a);
        await store.putSavepoint(c);
        await store.putSavepoint(savepoint("z", { job: "k", createdAt: 50 }));
        const list = await store.listSavepoints("j");
        expect(list).toEqual([info(c), info(a), info(b)]);
        for (const i of list) {
          expect(i).not.toHaveProperty("sources");
          expect(i).not.toHaveProperty("state");
        }
        expect(await store.listSavepoints("none")).toEqual([]);
      });

      it("deleteSavepoint removes a savepoint; false when there was none", async () => {
        await store.putSavepoint(savepoint("s1"));
        await store.putSavepoint(savepoint("s2", { createdAt: 2000 }));
        expect(await store.deleteSavepoint("j", "s1")).toBe(true);
        expect(await store.getSavepoint("j", "s1")).toBeUndefined();
        expect(await store.listSavepoints("j")).toEqual([info(savepoint("s2", { createdAt: 2000 }))]);
        expect(await store.deleteSavepoint("j", "s1")).toBe(false);
        expect(await store.deleteSavepoint("k", "s2")).toBe(false);
        expect(await store.getSavepoint("j", "s2")).toEqual(savepoint("s2", { createdAt: 2000 }));
        // The name is free again; nothing of the deleted savepoint leaks into the new one.
        const again = savepoint("s1", { values: 1, state: { counter: [{ s: "count/n", k: "q", g: 3, v: 9 }] } });
        expect(await store.putSavepoint(again)).toBe(true);
        expect(await store.getSavepoint("j", "s1")).toEqual(again);
      });

      it("round-trips a savepoint of many values in order", async () => {
        const values = Array.from({ length: 20_000 }, (_, i) => ({ s: "op/v", k: `k${i}`, g: i % 128, v: { i } }));
        const sp = savepoint("big", {
          values: values.length + 1,
          state: { a: values, b: [{ s: "op/v", k: "x", g: 1, v: 1 }] },
        });
        expect(await store.putSavepoint(sp)).toBe(true);
        expect(await store.getSavepoint("j", "big")).toEqual(sp);
      });
    });
  });
}
