/**
 * Debloating on the emulators (`core/control/wake-window.ts`): with `ingestWindowMs`,
 * appends that come faster than one per window wake their source partition about once
 * per window (windowed starts share a FIFO deduplication id, and the partition lingers
 * to the window's end), and every record is still committed exactly once, with
 * crashes injected or not.
 */

import { afterAll, afterEach, describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { ORIGINS } from "../../functions/aws/accounting.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import {
  api,
  type Click,
  clickBatches,
  expectExactlyOnce,
  readOutput,
  startJob,
  stopEmulators,
  total,
  until,
} from "../support/aws-local-harness.ts";
import { everyFifthCall, InjectedCrash, withCrashes } from "../support/faults.ts";

const windowed = (partitions: number, intervalMs: number) =>
  defineJob("windowed", (env) => {
    env.enableCheckpointing(intervalMs);
    env.configure({ ingestWindowMs: 2000 });
    env
      .fromIngest<Click>("clicks", { partitions })
      .keyBy((c) => c.user)
      .process({
        state: { n: valueState<number>() },
        processElement(c, ctx) {
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.emit({ user: c.user, n });
        },
      })
      .sinkTo("counts");
  });

let local: AwsLocal | undefined;
afterEach(async () => {
  await local?.stop();
  local = undefined;
});
afterAll(stopEmulators);

/** Posts the batches, `parallel` requests at a time. */
async function ingest(l: AwsLocal, batches: readonly unknown[][], parallel: number): Promise<void> {
  for (let i = 0; i < batches.length; i += parallel) {
    await Promise.all(
      batches.slice(i, i + parallel).map(async (b) => {
        const res = await api(l.url as string, "/jobs/windowed/sources/clicks/events", { body: JSON.stringify(b) });
        expect(res.status, await res.clone().text()).toBe(202);
      }),
    );
  }
}

const counts = (l: AwsLocal) => readOutput<{ user: string; n: number }>(l.ports.output, "windowed", "counts");

describe("aws-local: ingest wake-ups windowed by ingestWindowMs", () => {
  it("wakes the source far less often than once per request, and commits every record exactly once", async () => {
    local = await startJob({ job: windowed(1, 5000), parallelism: 1 });
    const l = local;
    const { batches, counts: want } = clickBatches(80, 4);
    await ingest(l, batches, 8);
    await until("all counts committed", async () => (await counts(l)).length >= total(want), 60_000);
    expectExactlyOnce(await counts(l), want);
    const source = l.plan.tasks.find((t) => t.isSource)?.id as string;
    const invocations = l.accounting.snapshot(ORIGINS.task).lambda[`windowed-${source}`]?.invocations ?? 0;
    // Measured: about 20 with the window; without it, 35 for 60 requests sent 4 at a time.
    expect(invocations).toBeGreaterThan(0);
    expect(invocations).toBeLessThan(batches.length / 2);
  }, 120_000);

  it("injected crashes before commit, after commit and after send change nothing in the committed output", async () => {
    const { policy, crashes } = everyFifthCall();
    local = await startJob({
      job: windowed(2, 1000),
      parallelism: 2,
      taskPorts: (ports) => withCrashes(ports, policy),
      fatal: (error) => error instanceof InjectedCrash,
    });
    const l = local;
    const { batches, counts: want } = clickBatches(40, 5);
    await ingest(l, batches, 4);
    await until("all counts committed", async () => (await counts(l)).length >= total(want), 60_000);
    await until("the job quiet", async () => l.coordinatorAsleep(), 45_000);
    expectExactlyOnce(await counts(l), want);
    for (const point of ["before-commit", "after-commit", "after-send"])
      expect(crashes[point] ?? 0, point).toBeGreaterThan(0);
  }, 150_000);
});
