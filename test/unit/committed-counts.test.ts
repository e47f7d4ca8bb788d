/** The run summary's counts: records count once the commit that carries them succeeded. */

import { describe, expect, it } from "vitest";
import { CommittedCounts } from "../../cli/committed-counts.ts";
import type { OutputPublisher } from "../../core/runtime/embedded.ts";

describe("CommittedCounts", () => {
  it("counts a sink's records after their commit, not when handed out or when the commit fails", async () => {
    let fail = true;
    const inner: OutputPublisher = {
      resume: async () => undefined,
      output: () => {},
      deadLetter: () => {},
      commit: async () => {
        if (fail) throw new Error("disk full");
      },
    };
    const counted = new CommittedCounts(inner);
    counted.output("out", [1, 2], "t", 0);
    expect(counted.counts.size).toBe(0);
    await expect(counted.commit(1, {})).rejects.toThrow("disk full");
    expect(counted.counts.size).toBe(0);
    fail = false;
    counted.output("out", [3], "t", 1);
    await counted.commit(2, {});
    expect([...counted.counts]).toEqual([["out", 3]]);
  });
});
