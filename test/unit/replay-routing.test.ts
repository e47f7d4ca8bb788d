/**
 * A replayed dead letter goes to the partition that owns its key in the job as it
 * runs now: after a rescale from 2 to 3 partitions, a key's owner may change.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { replayEntries } from "../../core/control/replay.ts";
import { replayRouter } from "../../core/control/replay-routing.ts";
import { planJob } from "../../core/graph/planner.ts";
import { encodeKey, keyGroupOf, partitionOfKeyGroup } from "../../core/keys.ts";
import type { StoredDeadLetter } from "../../core/ports/output-store.ts";

const job = defineJob("replays", (env) => {
  env
    .fromElements(Array.from({ length: 50 }, (_, i) => ({ user: `u${i}` })))
    .uid("src")
    .keyBy((r) => r.user)
    .map((r) => r)
    .uid("per-user")
    .sinkTo("out");
});

const letter = (user: string, partition: number, channel: string): StoredDeadLetter => ({
  id: `per-user#${partition}#1#1#0`,
  task: "per-user",
  partition,
  segment: 1,
  operator: "per-user",
  value: { user },
  error: "boom",
  attempts: 3,
  channel,
  seq: 1,
  time: 0,
});

describe("replay routing", () => {
  it("sends a keyed record to its key's owner at the current parallelism, on an input channel that exists", () => {
    const before = planJob(buildGraph(job, { parallelism: 2 }));
    const graph = buildGraph(job, { parallelism: 3 });
    const after = planJob(graph);
    const route = replayRouter(after, graph);
    const owner = (user: string, p: number) =>
      partitionOfKeyGroup(keyGroupOf(encodeKey(user), after.maxParallelism), p, after.maxParallelism);
    // A user whose owner moved with the rescale.
    const moved = Array.from({ length: 50 }, (_, i) => `u${i}`).find((u) => owner(u, 2) !== owner(u, 3)) as string;
    expect(moved).toBeDefined();
    const src = before.tasks.find((t) => t.isSource)?.id as string;
    const d = letter(moved, owner(moved, 2), `$replay:${src}#1`);
    // The channel names an upstream partition that exists now.
    const upstream = after.tasks.find((t) => t.id === src)?.parallelism as number;
    const channel = `${src}#${1 % upstream}`;
    expect(route(d)).toEqual({ partition: owner(moved, 3), channel });
    const [entry] = replayEntries([d], 2, 1000, route);
    expect(entry?.to).toEqual({ task: "per-user", partition: owner(moved, 3) });
    expect(entry?.envelope.from).toBe(`$replay:${channel}`);
  });

  it("refuses a letter of a task the job no longer has", () => {
    const graph = buildGraph(job, { parallelism: 2 });
    const route = replayRouter(planJob(graph), graph);
    expect(() => route({ ...letter("u1", 0, "src#0"), task: "gone" })).toThrow(
      /task 'gone', which the job no longer has/,
    );
  });
});
