/**
 * The progress marker of `riffle run`'s output files records where the output of the
 * last savepoint restore begins: the restoring run first publishes what the run
 * before it committed but did not publish (a kill, a full disk), and that output
 * belongs to the job before the restore (found by the chaos fuzzer, embedded seeds 4 and 5).
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileOutputStore } from "../../cli/file-output-store.ts";
import type { PublishedSegment } from "../../core/ports/output-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function files() {
  const dir = mkdtempSync(join(tmpdir(), "riffle-out-"));
  dirs.push(dir);
  return { out: join(dir, "out.jsonl"), dlq: join(dir, "dlq.jsonl"), progress: join(dir, "output.json"), run: "r" };
}

const segment = (n: number, generation: number, values: number[]): PublishedSegment => ({
  task: "t",
  partition: 0,
  segment: n,
  generation,
  sink: { out: values },
  deadLetters: [],
});

const marker = (path: string) => JSON.parse(readFileSync(path, "utf8")) as { outBytes: number; restoredAt?: number };
const line = (v: number) => `${JSON.stringify({ sink: "out", value: v })}\n`;

describe("FileOutputStore: where a restore's output begins", () => {
  it("records the end of what was published before the restore, and keeps it across commits and reopens", async () => {
    const f = files();
    const store = new FileOutputStore(f);
    await store.publish("job", [segment(1, 1, [1, 2])]);
    await store.setPublished("job", { "t#0": 1 });
    expect(marker(f.progress).restoredAt).toBeUndefined();
    // The restoring run publishes the old run's committed tail first, then resets the marks.
    await store.publish("job", [segment(2, 1, [3])]);
    await store.setPublished("job", { "t#0": 2 });
    await store.resetPublished("job");
    const at = line(1).length + line(2).length + line(3).length;
    expect(marker(f.progress)).toMatchObject({ outBytes: at, restoredAt: at, cut: {} });
    await store.publish("job", [segment(1001, 2, [10])]);
    await store.setPublished("job", { "t#0": 1001 });
    expect(marker(f.progress)).toMatchObject({ outBytes: at + line(10).length, restoredAt: at });
    const reopened = new FileOutputStore(f);
    await reopened.publish("job", [segment(1002, 2, [11])]);
    await reopened.setPublished("job", { "t#0": 1002 });
    expect(marker(f.progress).restoredAt).toBe(at);
    expect(readFileSync(f.out, "utf8").slice(at)).toBe(line(10) + line(11));
  });
});

describe("FileOutputStore: replayed marks", () => {
  it("keeps each mark's envelope across reopens, reads marks written without one, and clears only the mark judged undone", async () => {
    const f = { ...files(), replayed: "" };
    f.replayed = join(f.dlq, "..", "dlq-replayed.json");
    const letter = { operator: "m", value: 1, error: "boom", attempts: 3, channel: "src#0", seq: 1, time: 0 };
    const store = new FileOutputStore(f);
    await store.publish("j", [{ ...segment(1, 1, []), deadLetters: [letter, letter, letter] }]);
    await store.setPublished("j", { "t#0": 1 });
    const [a, b, c] = (await store.deadLetters("j")).map((d) => d.id) as [string, string, string];
    const mark = (seq: number) => ({ generation: 1, task: "t", partition: 0, channel: "$replay:src#0", seq });
    await store.markReplayed("j", [a, b], 10, { [a]: mark(5), [b]: mark(5) });
    await store.markReplayed("j", [c], 11); // written as before envelopes were recorded
    expect(JSON.parse(readFileSync(f.replayed, "utf8"))[c]).toBe(11);
    await store.markReplayed("j", [b], 12, { [b]: mark(9) }); // a newer replay of b
    const reopened = new FileOutputStore(f);
    expect((await reopened.deadLetters("j")).map((d) => [d.replayedAt, d.replay?.seq])).toEqual([
      [10, 5],
      [12, 9],
      [11, undefined],
    ]);
    await reopened.unmarkReplayed(
      "j",
      [a, b, c].map((id) => ({ id, seq: 5 })),
    );
    const after = new FileOutputStore(f);
    expect((await after.deadLetters("j")).map((d) => d.replayedAt)).toEqual([undefined, 12, 11]);
  });
});
