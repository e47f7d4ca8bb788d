import { describe, expect, it } from "vitest";
import type { SourceChunk } from "../../../core/api/source.ts";
import { lingerUntil } from "../../../core/control/wake-window.ts";
import type { PartitionView } from "../../../core/log/view.ts";
import type { SplitChunk } from "../../../core/runtime/slice-run.ts";
import { afterPoll, raisedLinger } from "../../../core/runtime/source-wake.ts";

const chunk = (records: number, more: Partial<SourceChunk<unknown>> = {}): SourceChunk<unknown> => ({
  records: Array.from({ length: records }, (_, i) => i),
  position: records,
  done: false,
  ...more,
});
const polled = (...chunks: SourceChunk<unknown>[]): SplitChunk => ({
  reads: chunks.map((c, i) => ({ split: String(i), chunk: c })),
  allDone: false,
  cursor: 0,
});

describe("afterPoll: when a source partition polls again", () => {
  it("polls at once after records that were not the end of the input, resetting the backoff", () => {
    expect(afterPoll(polled(chunk(3)), 40, 1000)).toEqual({ poll: true, writes: [["backoff", 0]] });
    expect(afterPoll(polled(chunk(3), chunk(0, { idle: true })), 0, 1000)).toEqual({ poll: true, writes: [] });
  });

  it("parks after records when every split read up to its end (no empty poll to find that out)", () => {
    const out = afterPoll(polled(chunk(3, { idle: true }), chunk(0, { idle: true })), 20, 1000);
    expect(out).toEqual({
      poll: false,
      writes: [
        ["backoff", 0],
        ["parked", true],
        ["wakeAt", null],
      ],
    });
  });

  it("parks until the earliest wakeAt when every split is idle and read nothing", () => {
    const out = afterPoll(polled(chunk(0, { idle: true, wakeAt: 900 }), chunk(0, { idle: true, wakeAt: 700 })), 0, 5);
    expect(out).toEqual({
      poll: false,
      writes: [
        ["parked", true],
        ["wakeAt", 700],
      ],
    });
  });

  it("backs off after nothing that was not idle, doubling up to 1 s", () => {
    expect(afterPoll(polled(chunk(0)), 0, 100).writes).toEqual([
      ["parked", true],
      ["backoff", 10],
      ["wakeAt", 110],
    ]);
    expect(afterPoll(polled(chunk(0)), 800, 100).writes).toContainEqual(["backoff", 1000]);
  });

  it("parks until a windowed start's linger when it is ahead of now, and forgets one that passed", () => {
    const caughtUp = polled(chunk(2, { idle: true }));
    expect(afterPoll(caughtUp, 0, 1000, 1600).writes).toContainEqual(["wakeAt", 1600]);
    expect(afterPoll(caughtUp, 0, 1000, 900).writes).toContainEqual(["wakeAt", null]);
    const withTimer = polled(chunk(0, { idle: true, wakeAt: 1200 }));
    expect(afterPoll(withTimer, 0, 1000, 1600).writes).toContainEqual(["wakeAt", 1200]);
  });
});

describe("raisedLinger: what a batch's windowed starts record", () => {
  const view = (linger?: number) =>
    ({ opState: new Map(linger === undefined ? [] : [["lingerUntil", linger]]) }) as unknown as PartitionView;

  it("raises the committed linger to the latest window's end plus the margin, never lowers it", () => {
    expect(raisedLinger(view(), undefined)).toBeUndefined();
    expect(raisedLinger(view(), 2000)).toBe(lingerUntil(2000));
    expect(raisedLinger(view(lingerUntil(1000)), 2000)).toBe(lingerUntil(2000));
    expect(raisedLinger(view(lingerUntil(2000)), 2000)).toBeUndefined();
    expect(raisedLinger(view(lingerUntil(3000)), 2000)).toBeUndefined();
  });
});
