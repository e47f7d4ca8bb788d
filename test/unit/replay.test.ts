/**
 * Replay channels: a dead letter that failed on a replay channel goes back on the
 * same replay channel, never on a stacked `$replay:$replay:…` one.
 */

import { describe, expect, it } from "vitest";
import { replayEntries } from "../../core/control/replay.ts";
import { originalChannel, replayChannel } from "../../core/envelope.ts";
import type { StoredDeadLetter } from "../../core/ports/output-store.ts";

function letter(id: string, channel: string, value: unknown): StoredDeadLetter {
  return {
    id,
    task: "t1",
    partition: 0,
    segment: 1,
    operator: "map-1",
    value,
    error: "boom",
    attempts: 3,
    channel,
    seq: 1,
    time: 0,
  };
}

describe("replay channels", () => {
  it("strip every replay prefix to find the original channel", () => {
    expect(originalChannel("src#0")).toBe("src#0");
    expect(originalChannel("$replay:$poll")).toBe("$poll");
    expect(originalChannel("$replay:$replay:$poll")).toBe("$poll");
    expect(replayChannel("$replay:$replay:src#1")).toBe("$replay:src#1");
  });

  it("send a letter that failed on a replay channel back with the others of its original channel", () => {
    const entries = replayEntries([letter("a", "$poll", 1), letter("b", "$replay:$poll", 2)], 4, 10);
    expect(entries.map((e) => [e.envelope.from, e.envelope.seq, e.envelope.records])).toEqual([
      ["$replay:$poll", 10_000, [1, 2]],
    ]);
  });
});
