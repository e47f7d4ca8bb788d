/**
 * Regression on the AWS runtime (emulators): a restore right after a savepoint
 * loses nothing. The savepoint answers once its checkpoint's output is published,
 * and a restore publishes the newest completed checkpoint's output before it
 * resets any log; before, user A's first counts were never committed.
 */

import { describe, expect, it } from "vitest";
import clicks from "../../examples/clicks.ts";
import { api, awsLocalJobs, readOutput, until } from "../support/aws-local-harness.ts";

type Count = { user: string; n: number };

const jobs = awsLocalJobs();

describe("aws-local: a restore right after a savepoint", () => {
  it("commits every count of user A at least once, and nothing below the savepoint twice", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 2 });
    const N = 2000;
    for (let b = 0; b < N / 500; b++) {
      const batch = Array.from({ length: 500 }, (_, i) => ({ user: "A", page: "/a", ts: b * 500 + i }));
      const res = await api(l.url as string, "/jobs/clicks/sources/clicks/events", { body: JSON.stringify(batch) });
      expect(res.status, await res.clone().text()).toBe(202);
    }
    const sp = await api(l.url as string, "/jobs/clicks/savepoints", { body: JSON.stringify({ name: "s1" }) });
    expect(sp.status, await sp.clone().text()).toBe(201);
    const restored = await api(l.url as string, "/jobs/clicks/restore", { body: JSON.stringify({ savepoint: "s1" }) });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const seen = async () => new Set((await readOutput<Count>(l.ports.output, "clicks", "counts")).map((c) => c.n));
    await until("every count of A", async () => (await seen()).size >= N, 90_000);
    const ns = (await readOutput<Count>(l.ports.output, "clicks", "counts")).map((c) => c.n);
    const times = new Map<number, number>();
    for (const n of ns) times.set(n, (times.get(n) ?? 0) + 1);
    expect([...times.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // A restore re-processes what came after the savepoint (at most once more); below it, nothing repeats.
    const firstRepeat = Math.min(...[...times].filter(([, k]) => k > 1).map(([n]) => n), N + 1);
    for (const [n, k] of times) expect(k, `count ${n}`).toBeLessThanOrEqual(n < firstRepeat ? 1 : 2);
    for (let n = firstRepeat; n <= Math.max(...times.keys()); n++) {
      if (n <= N && times.has(n)) expect(times.get(n), `count ${n} after the savepoint`).toBeGreaterThanOrEqual(1);
    }
  }, 180_000);
});
