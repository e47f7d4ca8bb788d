/**
 * The embedded scheduler's round (core/runtime/round.ts): a task that calls out runs
 * its batches one after another beside the rounds, across them (the next one is out
 * when a round ends), never two at once; a settle lets the running one finish and
 * starts no next one.
 */
import { describe, expect, it } from "vitest";
import type { TaskPlan } from "../../../core/graph/plan.ts";
import { Beside, type RoundHooks, runRound, type StepResult } from "../../../core/runtime/round.ts";

const task = (id: string, isSource = false) => ({ id, isSource, parallelism: 1 }) as unknown as TaskPlan;
const source = task("source", true);
const remote = task("remote");

/** The remote task's batches, each answered by the test; the source's queue of `sourceBatches`. */
function harness(remoteBatches: number, sourceBatches = 100) {
  const log: string[] = [];
  const answers: (() => void)[] = [];
  let out = 0;
  let left = remoteBatches;
  let read = 0;
  const hooks: RoundHooks<"failed"> = {
    step: async (t) => {
      if (t === source) {
        if (read >= sourceBatches) return "idle";
        read++;
        return "ok";
      }
      if (left === 0) return "idle";
      const n = remoteBatches - left--;
      if (out > 0) log.push("two batches out at once");
      out++;
      log.push(`start ${n}`);
      await new Promise<void>((resolve) => answers.push(resolve));
      out--;
      log.push(`end ${n}`);
      return "ok";
    },
    overlaps: (t) => t === remote,
    wantsMore: () => read < 3,
  };
  return { log, answers, hooks, read: () => read };
}

const settleMicrotasks = () => new Promise((resolve) => setImmediate(resolve));

describe("runRound", () => {
  it("runs the batches of a task that calls out one at a time, in order, the next one out when a round ends", async () => {
    const h = harness(3);
    const beside = new Beside<"failed">();
    const round1 = runRound([remote, source], h.hooks, beside);
    await settleMicrotasks();
    expect(h.log).toEqual(["start 0"]);
    expect(h.read()).toBe(3); // the source read ahead while the batch was out, until wantsMore said no
    h.answers.shift()?.();
    expect(await round1).toEqual(["ok", "ok", "ok", "ok"]);
    expect(beside.busy).toBe(true);
    expect(h.log).toEqual(["start 0", "end 0", "start 1"]); // out before the next round began
    const round2 = runRound([remote, source], h.hooks, beside);
    await settleMicrotasks();
    h.answers.shift()?.();
    expect(await round2).toEqual(["ok", "ok"]);
    h.answers.shift()?.();
    await settleMicrotasks();
    const round3 = await runRound([remote, source], h.hooks, beside);
    expect(round3).toContain("ok");
    expect(h.log).toEqual(["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
  });

  it("a round that ran nothing in turn waits for the batch out instead of ending idle", async () => {
    const h = harness(1, 0);
    const beside = new Beside<"failed">();
    const round = runRound([remote, source], h.hooks, beside);
    let ended = false;
    void round.then(() => {
      ended = true;
    });
    await settleMicrotasks();
    expect(ended).toBe(false);
    h.answers.shift()?.();
    const results = await round;
    expect(results.filter((r) => r !== "idle")).toEqual(["ok"]); // the batch's, not an idle round
  });

  it("settle lets the running batch finish and starts no next one; a later round starts again", async () => {
    const h = harness(2);
    const beside = new Beside<"failed">();
    const round = runRound([remote, source], h.hooks, beside);
    await settleMicrotasks();
    h.answers.shift()?.();
    await round;
    expect(h.log).toEqual(["start 0", "end 0", "start 1"]);
    const settled = beside.settle();
    h.answers.shift()?.();
    await settled;
    expect(beside.busy).toBe(false);
    expect(h.log).toEqual(["start 0", "end 0", "start 1", "end 1"]); // no batch 2 started under the settle
    expect(beside.take()).toEqual(["ok"]);
    const after = await runRound([remote, source], h.hooks, beside);
    expect(after).toEqual(["ok", "idle"]); // the source's batch, then the remote task's empty queue
    expect(h.log).toEqual(["start 0", "end 0", "start 1", "end 1"]);
  });

  it("a failed batch ends its task's loop, and the round returns the failure", async () => {
    const beside = new Beside<"failed">();
    let calls = 0;
    const hooks: RoundHooks<"failed"> = {
      step: async (t): Promise<StepResult<"failed">> => {
        if (t !== remote) return "idle";
        calls++;
        return "failed";
      },
      overlaps: (t) => t === remote,
      wantsMore: () => true,
    };
    expect(await runRound([remote, source], hooks, beside)).toEqual(["idle", "failed"]);
    expect(calls).toBe(1);
    expect(beside.busy).toBe(false);
  });
});
