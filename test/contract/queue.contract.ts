/**
 * Behavior every {@link Queue} implementation must have (SQS FIFO semantics), checked
 * without controlling clocks: receives poll with a deadline, since a receive may
 * return fewer messages than are available (fauxqs: at most one per group).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Envelope, IDLE_WATERMARK, type OutboxEntry, type Signal } from "../../core/envelope.ts";
import type { Queue, ReceivedMessage } from "../../core/ports/queue.ts";

/** A queue under test, with the task whose (fresh, empty) queue the test uses. */
export interface QueueFixture {
  readonly queue: Queue;
  readonly task: string;
  close(): Promise<void>;
}

/** Options of {@link queueContract}. */
export interface QueueContractOptions {
  /** Whether `send` rejects an envelope over SQS's 1 MiB limit (default true). */
  readonly enforcesSizeLimit?: boolean;
}

const DEADLINE_MS = 5_000;
const MIB = 1_048_576;

function env(seq: number, records: unknown[] = [seq], extra: Partial<Envelope> = {}): Envelope {
  return { gen: 1, from: "up#0", seq, records, ...extra };
}

/** Registers the queue contract for one implementation. */
export function queueContract(
  name: string,
  make: () => Promise<QueueFixture>,
  options: QueueContractOptions = {},
): void {
  describe(`Queue contract: ${name}`, () => {
    let fx: QueueFixture | undefined;
    let queue: Queue;
    let task: string;
    beforeEach(async () => {
      fx = undefined;
      fx = await make();
      queue = fx.queue;
      task = fx.task;
    });
    afterEach(async () => {
      await fx?.close();
    });

    const to = (partition: number, envelope: Envelope): OutboxEntry => ({ to: { task, partition }, envelope });

    /** Receives (acking each batch) until `count` messages came or the deadline passed. */
    async function drain(count: number, ack = true): Promise<ReceivedMessage[]> {
      const got: ReceivedMessage[] = [];
      const end = Date.now() + DEADLINE_MS;
      while (got.length < count && Date.now() < end) {
        const batch = await queue.receive(task, 10);
        if (batch.length === 0) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        got.push(...batch);
        if (ack)
          await queue.ack(
            task,
            batch.map((m) => m.receipt),
          );
      }
      return got;
    }

    /** Receives for a while and returns everything that came (expected: nothing). */
    async function quiet(ms = 300): Promise<ReceivedMessage[]> {
      const got: ReceivedMessage[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        got.push(...(await queue.receive(task, 10)));
        await new Promise((r) => setTimeout(r, 20));
      }
      return got;
    }

    const seqs = (ms: readonly ReceivedMessage[], group?: number) =>
      ms.filter((m) => group === undefined || m.group === group).map((m) => m.body.seq);

    it("keeps FIFO order within a group across several sends", async () => {
      await queue.send([1, 2, 3, 4, 5].map((s) => to(0, env(s))));
      await queue.send([6, 7, 8].map((s) => to(0, env(s))));
      await queue.send([9, 10, 11, 12].map((s) => to(0, env(s))));
      const got = await drain(12);
      expect(seqs(got)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(got.every((m) => m.group === 0 && m.receiveCount === 1)).toBe(true);
    });

    it("delivers the messages of every group, each group in order", async () => {
      const entries: OutboxEntry[] = [];
      for (let s = 1; s <= 3; s++) for (let p = 0; p < 5; p++) entries.push(to(p, env(s, [p, s])));
      await queue.send(entries);
      const got = await drain(15);
      expect(got).toHaveLength(15);
      for (let p = 0; p < 5; p++) {
        expect(seqs(got, p)).toEqual([1, 2, 3]);
        expect(got.filter((m) => m.group === p).every((m) => (m.body.records[0] as number) === p)).toBe(true);
      }
    });

    it("delivers the same channel and seq sent to different partitions (no cross-group dedup)", async () => {
      const barrier = (p: number) =>
        to(p, { gen: 2, from: "$ctl", seq: 7, records: [], signal: { kind: "barrier", n: 7 } });
      await queue.send([barrier(0), barrier(1), barrier(2)]);
      const got = await drain(3);
      expect(got.map((m) => m.group).sort()).toEqual([0, 1, 2]);
      expect(await quiet(200)).toEqual([]);
    });

    it("never deduplicates unsequenced signals (tick/start, seq 0)", async () => {
      const tick = () => to(0, { gen: 1, from: "$tick", seq: 0, records: [], signal: { kind: "tick" } });
      const start = () => to(0, { gen: 1, from: "$start", seq: 0, records: [], signal: { kind: "start" } });
      await queue.send([tick(), tick(), start()]);
      await queue.send([tick(), start()]);
      const got = await drain(5);
      expect(got.map((m) => m.body.signal?.kind)).toEqual(["tick", "tick", "start", "tick", "start"]);
    });

    it("has at most one batch of a group in flight", async () => {
      await queue.send([1, 2, 3].map((s) => to(0, env(s))));
      const first = await drain(1, false);
      expect(first.length).toBeGreaterThan(0);
      expect(seqs(first)).toEqual([1, 2, 3].slice(0, first.length));
      expect(await quiet()).toEqual([]);
      await queue.ack(
        task,
        first.map((m) => m.receipt),
      );
      const rest = await drain(3 - first.length);
      expect([...seqs(first), ...seqs(rest)]).toEqual([1, 2, 3]);
    });

    it("ack deletes: nothing comes back, not even after a later nack of the same receipts", async () => {
      await queue.send([to(0, env(1)), to(1, env(2))]);
      const got = await drain(2);
      expect(got).toHaveLength(2);
      await queue.nack(
        task,
        got.map((m) => m.receipt),
        0,
        "after ack",
      );
      expect(await quiet()).toEqual([]);
    });

    it("nack with delay 0 redelivers in order with receiveCount incremented", async () => {
      await queue.send([1, 2, 3].map((s) => to(0, env(s))));
      const first = await drain(1, false);
      expect(first.length).toBeGreaterThan(0);
      expect(first.every((m) => m.receiveCount === 1)).toBe(true);
      await queue.nack(
        task,
        first.map((m) => m.receipt),
        0,
        "boom",
      );
      const again = await drain(3);
      expect(seqs(again)).toEqual([1, 2, 3]);
      again.forEach((m, i) => {
        expect(m.receiveCount).toBe(i < first.length ? 2 : 1);
      });
    });

    it("round-trips envelopes: records, times with a missing time, and signals", async () => {
      const records = [
        { user: "ü€😀\uffff\ud800", n: 1.5, tags: ["a", "b"], nested: { ok: true, none: null } },
        "x",
        -0.25,
        42,
      ];
      const data: Envelope = { gen: 3, from: "map#1", seq: 1, records, times: [1000, Number.NaN, 2.5e12, -5] };
      const signals: Signal[] = [
        { kind: "watermark", t: 1234.5 },
        { kind: "watermark", t: IDLE_WATERMARK },
        { kind: "barrier", n: 9 },
        { kind: "poll" },
        { kind: "end" },
      ];
      const withSignals = signals.map((signal, i) => env(i + 2, i === 0 ? ["last"] : [], { gen: 3, signal }));
      await queue.send([to(4, data), ...withSignals.map((e) => to(4, e))]);
      const got = await drain(6);
      expect(got.map((m) => m.group)).toEqual([4, 4, 4, 4, 4, 4]);
      const [first, ...rest] = got.map((m) => m.body);
      const times = first?.times ?? [];
      expect(times).toHaveLength(4);
      expect([times[0], times[2], times[3]]).toEqual([1000, 2.5e12, -5]);
      expect(times[1] === null || Number.isNaN(times[1])).toBe(true);
      expect({ ...first, times: undefined }).toEqual({ ...data, times: undefined });
      expect(rest).toEqual(withSignals);
    });

    it("sends batches beyond 10 entries and 1 MiB in total, in order", async () => {
      const big = "x".repeat(200_000);
      const entries = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((s) => to(s % 2, env(s, [big, s])));
      await queue.send(entries);
      const got = await drain(12);
      expect(seqs(got, 0)).toEqual([2, 4, 6, 8, 10, 12]);
      expect(seqs(got, 1)).toEqual([1, 3, 5, 7, 9, 11]);
      expect(got.every((m) => m.body.records[0] === big)).toBe(true);
    });

    if (options.enforcesSizeLimit ?? true) {
      it("rejects an envelope over 1 MiB, naming its destination", async () => {
        const huge = env(5, ["y".repeat(MIB + 10)], { from: "src#2" });
        const sent = queue.send([to(0, env(1)), to(3, huge)]);
        await expect(sent).rejects.toThrow(new RegExp(`${task}\\[3\\].*src#2.*seq 5`));
        // Nothing of the call was sent: the check precedes the first batch.
        expect(await quiet(200)).toEqual([]);
      });
    }
  });
}
