/**
 * The restore steps: a restore either completes or changes nothing, a retried
 * savepoint restore is idempotent, and the restart strategy's count lives in the
 * job record (so both runtimes honour it). Each step is a fresh CoordinatorSteps
 * over in-memory stores, as a Lambda would run it.
 */

import { describe, expect, it } from "vitest";
import { livePending } from "../../core/checkpoint/pending.ts";
import { RestoreError, RestoreInterruptedError } from "../../core/checkpoint/restore.ts";
import { SavepointError, takeSavepoint } from "../../core/checkpoint/savepoint.ts";
import { STALE_RESTORE_MS } from "../../core/checkpoint/steps.ts";
import type { JobRecord } from "../../core/ports/checkpoint-store.ts";
import { setup } from "../support/restore-steps-setup.ts";

describe("restore steps", () => {
  it("a savepoint restore that died midway is finished by a retry at the same generation", async () => {
    const { plan, state, context, steps, checkpointAt, record, clock } = setup();
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp2");
    state.failures = 1;
    await expect(steps().restoreSavepoint("sp1")).rejects.toThrow(/injected/);
    expect(await record()).toMatchObject({ generation: 2, restoring: true, restoredFrom: { savepoint: "sp1" } });
    // A savepoint of a checkpoint before the restore is refused: the restore rewrote its logs.
    await expect(takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp3")).rejects.toThrow(
      /was restored from savepoint 'sp1' after checkpoint/,
    );
    // While it is unfinished, a restore of another savepoint is refused and changes nothing.
    await expect(steps().restoreSavepoint("sp2")).rejects.toThrow(SavepointError);
    expect((await record())?.generation).toBe(2);
    // The retry picks it up: same generation, and the job runs again.
    expect(await steps().restoreSavepoint("sp1")).toEqual({ generation: 2 });
    expect((await record())?.restoring).toBeUndefined();
    expect(await steps().restoreSavepoint("sp2")).toEqual({ generation: 3 });
  });

  it("a savepoint whose reads a restore overtook is refused and not saved (savepoint + restore at once)", async () => {
    const { plan, state, context, steps, checkpointAt, record, clock } = setup();
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    const exportState = state.exportState.bind(state);
    let restoring: Promise<unknown> | undefined;
    state.exportState = async (...args: Parameters<typeof exportState>) => {
      restoring ??= steps().restoreSavepoint("sp1"); // rewrites the logs while the savepoint reads them
      await restoring;
      return exportState(...args);
    };
    await expect(takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp2")).rejects.toThrow(
      /was restored \(generation 1 to 2\) while savepoint 'sp2' was taken/,
    );
    expect(await context.checkpoints.getSavepoint(plan.job, "sp2")).toBeUndefined();
    expect(await record()).toMatchObject({ generation: 2 });
  });

  it("a checkpoint triggered around a restore that moves the generation is never pending in the new one", async () => {
    const { plan, state, context, steps, checkpointAt, clock, record } = setup();
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp2");
    const store = context.checkpoints;
    const live = async () => {
      const job = await record();
      if (!job) throw new Error("no job record");
      return livePending(job).map((e) => e.id);
    };
    // The restore lands between the trigger's read of the job record and its conditional write.
    const saveJob = store.saveJob.bind(store);
    let restore: Promise<unknown> | undefined;
    store.saveJob = async (...args: Parameters<typeof saveJob>) => {
      if (args[0].pending?.length && !restore) {
        restore = steps().restoreSavepoint("sp1");
        await restore;
      }
      return saveJob(...args);
    };
    await expect(steps().trigger()).rejects.toMatchObject({ reason: "checkpoint-race" });
    store.saveJob = saveJob;
    expect(await live()).toEqual([]);
    // A trigger written before a restore: the checkpoint belongs to the old generation and is not live after it.
    const id = (await steps().trigger()).checkpoint as number;
    expect(await live()).toEqual([id]);
    await steps().restoreSavepoint("sp2");
    expect(await live()).toEqual([]);
    expect((await store.listManifests(plan.job)).filter((m) => m.status === "pending")).toEqual([]);
  });

  it("a savepoint restore that races the round's trigger on the job record retries instead of refusing", async () => {
    const { plan, state, context, steps, checkpointAt, clock, record } = setup();
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    const store = context.checkpoints;
    const saveJob = store.saveJob.bind(store);
    let triggered: number | undefined;
    store.saveJob = async (...args: Parameters<typeof saveJob>) => {
      if (args[0].restoring && triggered === undefined) {
        // The round triggers a checkpoint between the restore's read of the record and its write.
        triggered = (await steps().trigger()).checkpoint as number;
      }
      return saveJob(...args);
    };
    const before = await record();
    await steps().restoreSavepoint("sp1");
    expect(triggered).toBeDefined();
    expect(await record()).toMatchObject({ generation: (before?.generation ?? 0) + 1 });
  });

  it("a failover restore that races the round's trigger on the job record retries instead of failing", async () => {
    const { context, steps, checkpointAt, record } = setup();
    await checkpointAt(3, 3);
    const store = context.checkpoints;
    const saveJob = store.saveJob.bind(store);
    let triggered: number | undefined;
    store.saveJob = async (...args: Parameters<typeof saveJob>) => {
      if (args[0].restoring && triggered === undefined) {
        triggered = (await steps().trigger()).checkpoint as number;
      }
      return saveJob(...args);
    };
    const before = await record();
    const answer = await steps().restore("a task failed");
    expect(triggered).toBeDefined();
    expect(answer.generation).toBe((before?.generation ?? 0) + 1);
  });

  it("a resume or a failover of a savepoint restore that died midway finishes that restore", async () => {
    for (const how of ["resume", "failover"] as const) {
      const { plan, state, context, steps, checkpointAt, record, clock } = setup();
      const manifest = await checkpointAt(3, 3);
      await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
      await checkpointAt(6, 6);
      const [first, last] = [plan.tasks[0]?.id as string, plan.tasks.at(-1)?.id as string];
      state.failTask = last; // the first task holds the savepoint's state, the last the old job's
      await expect(steps().restoreSavepoint("sp1")).rejects.toThrow(/injected/);
      state.failTask = undefined;
      const answer = how === "resume" ? await steps().resume() : await steps().restore("a task failed");
      expect(answer.generation, how).toBe(2); // the savepoint restore's generation: finished, not cut back
      expect(await record()).toMatchObject({ generation: 2, restoredFrom: { savepoint: "sp1", generation: 2 } });
      expect((await record())?.restoring).toBeUndefined();
      for (const task of [first, last]) {
        // Both tasks start from the savepoint: a new base past the old log's end (6).
        expect((await state.readBase(task, 0))?.through, `${how} ${task}`).toBeGreaterThan(6);
      }
    }
  });

  it("a failover whose Lambda died midway is finished by the trigger once it is stale, not before", async () => {
    const { state, steps, checkpointAt, record, clock, context } = setup();
    await checkpointAt(3, 3);
    state.truncateFailures = 1;
    await expect(steps().restore("test")).rejects.toThrow(/injected/);
    expect(await record()).toMatchObject({ generation: 2, restoring: true });
    // A Lambda that died (a timeout, a crash) never marked the record interrupted.
    const died = (await record()) as JobRecord;
    const at = { generation: died.generation, nextCheckpoint: died.nextCheckpoint };
    expect(await context.checkpoints.saveJob({ ...died, restoringSince: clock.now() }, at)).toBe(true);
    clock.advance(60_000); // a restore may still be running: leave it alone
    expect(await steps().trigger()).toEqual({ checkpoint: null });
    expect((await record())?.restoring).toBe(true);
    clock.advance(STALE_RESTORE_MS);
    expect(await steps().trigger()).toEqual({ checkpoint: null });
    expect(await record()).toMatchObject({ generation: 3, restarts: 1 });
    expect((await record())?.restoring).toBeUndefined();
    expect((await steps().trigger()).checkpoint).toEqual(expect.any(Number));
  });

  it("a restore interrupted by a failure after its record was written is finished at the next round", async () => {
    // Chaos aws-local seed 199: a savepoint restore answered 503 (a crashed compaction's
    // lease) after writing its record, and the job stayed "restoring" with nothing committed.
    for (const how of ["savepoint", "failover"] as const) {
      const { plan, state, context, steps, checkpointAt, record, clock } = setup();
      const manifest = await checkpointAt(3, 3);
      await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
      if (how === "savepoint") state.failures = 1;
      else state.truncateFailures = 1;
      const restore = how === "savepoint" ? steps().restoreSavepoint("sp1") : steps().restore("test");
      const error = await restore.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, how).toBeInstanceOf(RestoreInterruptedError);
      expect(error, how).toMatchObject({
        generation: 2,
        retryable: true,
        message: /began but was interrupted \(injected/,
      });
      expect(await record(), how).toMatchObject({ generation: 2, restoring: true, restoringSince: 0 });
      // No operator needed, and no wait for STALE_RESTORE_MS: the next trigger finishes it.
      expect(await steps().trigger(), how).toEqual({ checkpoint: null });
      expect((await record())?.restoring, how).toBeUndefined();
      if (how === "savepoint") {
        expect(await record()).toMatchObject({ generation: 2, restoredFrom: { savepoint: "sp1", generation: 2 } });
        for (const t of plan.tasks) expect((await state.readBase(t.id, 0))?.through, t.id).toBeGreaterThan(3);
      } else {
        expect(await record()).toMatchObject({ generation: 3 });
      }
      expect((await steps().trigger()).checkpoint, how).toEqual(expect.any(Number));
    }
  });

  it("a resume after a savepoint restore, before its first checkpoint, starts again from the savepoint", async () => {
    const { plan, state, context, steps, checkpointAt, record, clock } = setup();
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    expect(await steps().restoreSavepoint("sp1")).toEqual({ generation: 2 });
    // Killed before a checkpoint completed: the same flags resume (found by the chaos fuzzer).
    expect((await steps().resume()).generation).toBe(3);
    expect((await record())?.restoring).toBeUndefined();
  });

  it("a failover refuses a cut that compaction passed, and changes nothing", async () => {
    const { plan, state, steps, checkpointAt, record } = setup();
    await checkpointAt(3, 1);
    for (const t of plan.tasks) for (const p of [0, 1]) await state.compact(t.id, p, 3); // past the cut (1)
    const before = await record();
    await expect(steps().restore("test")).rejects.toThrow(RestoreError);
    expect(await record()).toEqual(before);
  });

  it("counts failovers in the job record and fails the job once the attempts are used up", async () => {
    const { steps, checkpointAt, record } = setup();
    await checkpointAt(2, 2);
    expect((await steps().restore("one")).failed).toBeUndefined();
    expect((await steps().restore("two")).failed).toBeUndefined();
    expect((await record())?.restarts).toBe(2);
    const third = await steps().restore("three");
    expect(third.failed).toBe("job 'restores' failed after 2 restarts: three");
    expect((await record())?.generation).toBe(3);
    expect(await steps().trigger()).toEqual({ checkpoint: null, failed: third.failed });
    // An operator's resume starts the count again.
    expect((await steps().resume()).failed).toBeUndefined();
    expect((await record())?.restarts).toBe(0);
    expect((await record())?.failed).toBeUndefined();
    expect((await steps().trigger()).checkpoint).toEqual(expect.any(Number));
  });
});
