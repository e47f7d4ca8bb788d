import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import type { TransactionContext, TwoPhaseCommitSink } from "../../../core/api/two-phase-sink.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

/** A sink into memory that logs every call; transactions are named by epoch. */
function memorySink(fail?: (values: readonly number[]) => boolean) {
  const log: string[] = [];
  const open = new Map<string, number[]>();
  const committed = new Map<string, number[]>();
  const sink: TwoPhaseCommitSink<number, string> = {
    beginTransaction: (t: TransactionContext) => {
      const name = `g${t.generation}-c${t.checkpointId}-p${t.partition}`;
      log.push(`begin ${name}`);
      open.set(name, []);
      return name;
    },
    invoke: (txn, values) => {
      if (fail?.(values)) throw new Error("disk full");
      open.get(txn)?.push(...values);
    },
    preCommit: (txn) => log.push(`preCommit ${txn}`),
    commit: (txn) => {
      log.push(`commit ${txn}`);
      if (!committed.has(txn)) committed.set(txn, open.get(txn) ?? []);
    },
    abort: (txn) => {
      log.push(`abort ${txn}`);
      open.delete(txn);
    },
  };
  return { sink, log, committed };
}

describe("TwoPhaseCommitSink", () => {
  it("pre-commits each epoch at its barrier and commits it when the checkpoint completes", async () => {
    const m = memorySink();
    const h = await OperatorHarness.create((s: DataStream<number>) => s.map((n) => n * 10).addSink(m.sink));
    await h.processElements([1, 2]);
    await h.processElements([3]);
    expect(m.log).toEqual([]); // staged, not yet in a transaction
    await h.checkpoint(1);
    await h.processElements([4]);
    await h.checkpoint(2);
    expect(m.log).toEqual(["begin g1-c1-p0", "preCommit g1-c1-p0", "begin g1-c2-p0", "preCommit g1-c2-p0"]);
    expect(m.committed.size).toBe(0);
    await h.notifyCheckpointComplete(1);
    expect([...m.committed]).toEqual([["g1-c1-p0", [10, 20, 30]]]);
    await h.notifyCheckpointComplete(2);
    expect([...m.committed.values()].flat()).toEqual([10, 20, 30, 40]);
  });

  it("after a crash, the epoch's staged records come back from the log and pending transactions still commit", async () => {
    const m = memorySink();
    const h = await OperatorHarness.create((s: DataStream<number>) => s.addSink(m.sink));
    await h.processElements([1]);
    await h.checkpoint(1);
    await h.processElements([2]);
    await h.restart(); // the in-memory runner is gone
    await h.processElements([3]);
    await h.checkpoint(2);
    await h.restart();
    await h.notifyCheckpointComplete(2); // one notification commits everything up to 2
    expect([...m.committed]).toEqual([
      ["g1-c1-p0", [1]],
      ["g1-c2-p0", [2, 3]],
    ]);
  });

  it("the end of input pre-commits the rest for the next checkpoint", async () => {
    const m = memorySink();
    const h = await OperatorHarness.create((s: DataStream<number>) => s.addSink(m.sink));
    await h.processElements([1]);
    await h.checkpoint(3);
    await h.processElements([2]);
    await h.endInput();
    await h.notifyCheckpointComplete(3);
    expect([...m.committed]).toEqual([["g1-c3-p0", [1]]]);
    await h.notifyCheckpointComplete(4);
    expect([...m.committed]).toEqual([
      ["g1-c3-p0", [1]],
      ["g1-c4-p0", [2]],
    ]);
  });

  it("a failing invoke aborts the transaction and fails the batch; the retry begins it again", async () => {
    let failures = 1;
    const m = memorySink(() => failures-- > 0);
    const h = await OperatorHarness.create((s: DataStream<number>) => s.addSink(m.sink).uid("tx"));
    await h.processElements([1]);
    await expect(h.checkpoint(1)).rejects.toThrow(/operator 'tx' failed: disk full/);
    expect(m.log).toEqual(["begin g1-c1-p0", "abort g1-c1-p0"]);
    await h.checkpoint(1);
    await h.notifyCheckpointComplete(1);
    expect([...m.committed]).toEqual([["g1-c1-p0", [1]]]);
  });
});
