/**
 * A restore undoes the dead-letter replays it cuts away (`core/checkpoint/replay-undo.ts`):
 * a failover to a checkpoint, a savepoint restore and a failover after a savepoint
 * restore each clear exactly the marks whose replay envelope the restored state
 * does not hold, and a restore that died midway clears them when it is finished.
 */

import { describe, expect, it } from "vitest";
import { replayInside } from "../../core/checkpoint/replay-undo.ts";
import { takeSavepoint } from "../../core/checkpoint/savepoint.ts";
import { STALE_RESTORE_MS } from "../../core/checkpoint/steps.ts";
import type { ReplayMark } from "../../core/ports/output-store.ts";
import { setup } from "../support/restore-steps-setup.ts";

const CH = "$replay:src#0";
/** Segment n of every partition took the replay envelopes up to seq n * 100. */
const positions = (n: number) => ({ [CH]: n * 100, "src#0": n });

/** A setup with dead letters `names` published, and a helper to mark and read them. */
async function withLetters(names: readonly string[]) {
  const s = setup();
  const task = s.plan.tasks.find((t) => t.keyed)?.id as string;
  const deadLetters = names.map((value) => ({
    operator: "sum-1",
    value,
    error: "boom",
    attempts: 3,
    channel: "src#0",
    seq: 1,
    time: 0,
  }));
  await s.context.output.publish(s.plan.job, [
    { task, partition: 0, segment: 1, generation: 1, sink: {}, deadLetters },
  ]);
  const ids = new Map((await s.context.output.deadLetters(s.plan.job)).map((d) => [d.value as string, d.id]));
  const mark = async (name: string, m?: Omit<ReplayMark, "task" | "channel">) => {
    const id = ids.get(name) as string;
    const marks = m ? { [id]: { ...m, task, channel: CH } } : undefined;
    await s.context.output.markReplayed(s.plan.job, [id], 5, marks);
  };
  const replayed = async () =>
    (await s.context.output.deadLetters(s.plan.job)).filter((d) => d.replayedAt !== undefined).map((d) => d.value);
  return { ...s, mark, replayed };
}

describe("a restore undoes the replays it cuts away", () => {
  it("a replay is inside a cut by generation, then by its partition's position on the replay channel", () => {
    const cut = { since: 2, generation: 4, positions: { "t#1": { [CH]: 500 } } };
    const m = (generation: number, seq: number, partition = 1) => ({
      generation,
      task: "t",
      partition,
      channel: CH,
      seq,
    });
    expect(replayInside(m(1, 9_999), cut)).toBe(true); // before the log began: its restore kept it
    expect(replayInside(m(5, 1), cut)).toBe(false); // sent after the cut's generation
    expect(replayInside(m(3, 500), cut)).toBe(true);
    expect(replayInside(m(3, 501), cut)).toBe(false);
    expect(replayInside(m(3, 1, 0), cut)).toBe(false); // its partition took no replay
  });

  it("a failover to a checkpoint clears the marks past its cut, also when it died midway and is finished later", async () => {
    const { steps, checkpointAt, mark, replayed, state, clock } = await withLetters(["in", "out", "legacy", "later"]);
    await checkpointAt(4, 2, positions); // the cut holds the replays through seq 200
    await mark("in", { generation: 1, partition: 0, seq: 200 });
    await mark("out", { generation: 1, partition: 0, seq: 201 });
    await mark("legacy"); // marked without its envelope: left alone
    await mark("later", { generation: 1, partition: 1, seq: 300 });
    state.truncateFailures = 1;
    await expect(steps().restore("test")).rejects.toThrow(/injected/);
    expect(await replayed()).toEqual(["in", "out", "legacy", "later"]); // a restore that died changed no mark
    clock.advance(STALE_RESTORE_MS);
    await steps().trigger(); // finishes the restore
    expect(await replayed()).toEqual(["in", "legacy"]);
  });

  it("a savepoint restore clears the marks its savepoint does not hold; a failover after it keeps the ones it kept", async () => {
    const { plan, state, context, clock, steps, checkpointAt, mark, replayed } = await withLetters([
      "a",
      "b",
      "c",
      "d",
    ]);
    const manifest = await checkpointAt(3, 3, positions);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "sp1");
    await mark("a", { generation: 1, partition: 0, seq: 300 });
    await mark("b", { generation: 1, partition: 0, seq: 301 });
    await mark("c", { generation: 2, partition: 0, seq: 1 });
    expect(await steps().restoreSavepoint("sp1")).toEqual({ generation: 2 });
    expect(await replayed()).toEqual(["a"]);
    // Generation 2's log starts again (no replay positions): a was settled by the savepoint restore.
    await mark("d", { generation: 2, partition: 0, seq: 2 });
    await steps().restore("a task failed");
    expect(await replayed()).toEqual(["a"]);
  });
});
