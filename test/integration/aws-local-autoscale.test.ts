/**
 * Elastic scaling on the AWS runtime (emulators): under a backlog the coordinator
 * raises the keyed counter from 1 to 4 partitions at a checkpoint cut, and back to 1
 * once it is idle; the emulated event source mapping's MaximumConcurrency follows
 * (Lambda's minimum is 2), and the committed counts are exactly once across both
 * rescales. The counter's commits are slowed (50 ms each) so that one partition
 * cannot keep up with the input and four can.
 */

import { describe, expect, it } from "vitest";
import job from "../fixtures/autoscale-clicks.ts";
import {
  api,
  awsLocalJobs,
  clickBatches,
  expectExactlyOnce,
  readOutput,
  total,
  until,
} from "../support/aws-local-harness.ts";

type Count = { user: string; n: number };

const jobs = awsLocalJobs();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("aws-local: autoscale from lag", () => {
  it("raises a task from 1 to 4 partitions under a backlog and back to 1 when idle, exactly once", async () => {
    const logs: string[] = [];
    const l = await jobs.start({
      job,
      parallelism: 1,
      log: (line) => logs.push(line),
      taskPorts: (ports) => ({
        ...ports,
        state: new Proxy(ports.state, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver);
            if (prop !== "append" || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
            return async (task: string, ...rest: unknown[]) => {
              if (task === "count") await sleep(50);
              return v.call(target, task, ...rest);
            };
          },
        }),
      }),
    });
    const parallelism = async () => (await l.ports.checkpoints.loadJob("autoscaled"))?.parallelism.count;
    const maxConcurrency = () => l.mappings().count?.maximumConcurrency;
    const seen = new Set<number>();
    const ingest = async (batch: unknown[]) => {
      const res = await api(l.url as string, "/jobs/autoscaled/sources/clicks/events", { body: JSON.stringify(batch) });
      expect(res.status, await res.clone().text()).toBe(202);
    };
    const diagnose = async () => {
      const lines = [`record ${JSON.stringify(await l.ports.checkpoints.loadJob("autoscaled"))}`];
      const ms = await l.ports.checkpoints.listManifests("autoscaled");
      lines.push(
        `checkpoints ${ms
          .slice(-8)
          .map((m) => `${m.id}/g${m.generation}/${m.status}`)
          .join(" ")}`,
      );
      lines.push(
        `counts ${(await readOutput<Count>(l.ports.output, "autoscaled", "counts")).length} of ${total(want)}; mappings ${JSON.stringify(l.mappings())}`,
      );
      for (const [task, P] of [
        ["clicks", 1],
        ["count", 4],
      ] as const) {
        for (let p = 0; p < P; p++) {
          const b = await l.ports.state.readBase(task, p);
          const segs = await l.ports.state.readSegments(task, p, b?.through ?? 0);
          lines.push(
            `${task}[${p}] base ${b?.through} ${JSON.stringify(b?.positions)} segs ${segs
              .map((x) => `${x.n}/g${x.gen}`)
              .join(" ")
              .slice(-300)}`,
          );
        }
      }
      return [...lines, ...logs.slice(-30)].join("\n");
    };
    // Input faster than one slowed partition drains, until the task was raised to 4; then none.
    const { batches } = clickBatches(400, 10, 12);
    let sent = 0;
    for (const b of batches) {
      await ingest(b);
      sent++;
      seen.add((await parallelism()) ?? 0);
      if (seen.has(4)) break;
      await sleep(100);
    }
    if (!seen.has(4)) throw new Error(`parallelism seen: ${[...seen]}\n${await diagnose()}`);
    await until("MaximumConcurrency 4", async () => maxConcurrency() === 4, 30_000);
    const want = clickBatches(sent, 10, 12).counts;
    const counts = () => readOutput<Count>(l.ports.output, "autoscaled", "counts");
    await until("all counts committed", async () => (await counts()).length >= total(want), 90_000, diagnose);
    await until("back to 1 partition", async () => (await parallelism()) === 1, 60_000, diagnose);
    await until("MaximumConcurrency 2 (Lambda's minimum)", async () => maxConcurrency() === 2, 30_000);
    // The mapping honours it: no more invocations at once than it allows since it was set.
    expect(l.mappings().count?.peakInFlight).toBeLessThanOrEqual(2);
    await until("the job quiet", async () => l.coordinatorAsleep(), 45_000);
    expectExactlyOnce(await counts(), want);
    const record = await l.ports.checkpoints.loadJob("autoscaled");
    expect(record?.generation).toBeGreaterThanOrEqual(3); // at least two rescales
    // No rescale's savepoint is left behind.
    expect(await l.ports.checkpoints.listSavepoints("autoscaled")).toEqual([]);
  }, 240_000);
});
