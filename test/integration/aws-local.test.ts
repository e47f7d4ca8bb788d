/**
 * The AWS runtime end to end on emulators, through the real handlers: HTTP ingest
 * (API handler over real HTTP) → ingest log (DynamoDB Local) → task Lambdas fed by
 * SQS FIFO queues (fauxqs) through the event-source-mapping emulator → segments
 * and state in DynamoDB → checkpoints driven by the coordinator's state machine
 * (aws-local-stepfunctions) → committed output in DynamoDB, compared with an oracle.
 */

import { describe, expect, it } from "vitest";
import clicks, { faults } from "../../examples/clicks.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import {
  API_KEY,
  api,
  awsLocalJobs,
  clickBatches,
  describeJob,
  expectExactlyOnce,
  readOutput,
  total,
  until,
} from "../support/aws-local-harness.ts";
import { everyFifthCall, InjectedCrash, withCrashes } from "../support/faults.ts";

type Count = { user: string; n: number };

const jobs = awsLocalJobs(() => {
  faults.poisonFixed = false;
});

async function ingestAll(l: AwsLocal, batches: readonly unknown[][]): Promise<void> {
  for (const b of batches) {
    const res = await api(l.url as string, "/jobs/clicks/sources/clicks/events", { body: JSON.stringify(b) });
    expect(res.status, await res.clone().text()).toBe(202);
  }
}

const counts = (l: AwsLocal) => readOutput<Count>(l.ports.output, "clicks", "counts");

describe("aws-local: the clicks job on SQS + DynamoDB + Step Functions emulators", () => {
  it("takes events over HTTP, completes checkpoints through the state machine, and commits the oracle's output", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 2 });
    expect(l.plan.tasks.length).toBeGreaterThanOrEqual(2);
    const { batches, counts: want } = clickBatches(8, 12);
    await ingestAll(l, batches);
    await until("all counts committed", async () => (await counts(l)).length >= total(want));
    expectExactlyOnce(await counts(l), want);
    const res = await api(l.url as string, "/jobs/clicks/checkpoints");
    const { checkpoints } = (await res.json()) as { checkpoints: { status: string }[] };
    expect(checkpoints.filter((c) => c.status === "completed").length).toBeGreaterThan(0);
    const status = (await (await api(l.url as string, "/jobs/clicks")).json()) as { generation: number };
    expect(status.generation).toBe(1);
  }, 120_000);

  it("injected crashes before commit, after commit and after send change nothing in the committed output", async () => {
    // Every fifth call of each crash point kills the invocation there.
    const { policy, crashes } = everyFifthCall();
    const l = await jobs.start({
      job: clicks,
      parallelism: 2,
      taskPorts: (ports) => withCrashes(ports, policy),
      fatal: (error) => error instanceof InjectedCrash,
    });
    const { batches, counts: want } = clickBatches(8, 10);
    await ingestAll(l, batches);
    await until("all counts committed", async () => (await counts(l)).length >= total(want));
    // Wait until the job is quiet (its coordinator sleeps): every segment then lies inside a
    // completed, published checkpoint, so a late duplicate would show up now.
    await until("the job quiet", async () => l.coordinatorAsleep(), 45_000);
    expectExactlyOnce(await counts(l), want);
    // Every crash point was hit.
    for (const point of ["before-commit", "after-commit", "after-send"])
      expect(crashes[point] ?? 0, point).toBeGreaterThan(0);
  }, 120_000);

  it("sets a poison record aside while the job goes on, again when replayed still poisoned, and a replay after the fix gets it through", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 2 });
    await ingestAll(l, [
      [
        { user: "ada", page: "/poison", ts: 1 },
        { user: "bob", page: "/b", ts: 2 },
      ],
    ]);
    await until("bob's count", async () => (await counts(l)).some((c) => c.user === "bob"));
    const dlq = async () =>
      (await (await api(l.url as string, "/jobs/clicks/dlq")).json()) as {
        records: { id: string; error: string; value: unknown }[];
      };
    await until("the dead letter", async () => (await dlq()).records.length === 1);
    const [letter] = (await dlq()).records;
    expect(letter?.error).toMatch(/poison click by ada/);
    expect(letter?.value).toEqual({ user: "ada", page: "/poison", ts: 1 });
    await ingestAll(l, [[{ user: "cy", page: "/c", ts: 3 }]]);
    await until("cy's count (the job goes on)", async () => (await counts(l)).some((c) => c.user === "cy"));
    const replay = async () => (await api(l.url as string, "/jobs/clicks/dlq/replay", { body: "{}" })).json();
    // Replayed while still poisoned: set aside again, and replayable again.
    expect(await replay()).toEqual({ replayed: 1 });
    await until("the second dead letter", async () => (await dlq()).records.length === 2);
    faults.poisonFixed = true;
    expect(await replay()).toEqual({ replayed: 1 });
    await until("ada's count", async () => (await counts(l)).some((c) => c.user === "ada"));
    expectExactlyOnce(await counts(l), { ada: 1, bob: 1, cy: 1 });
    const after = (await (await api(l.url as string, "/jobs/clicks/dlq")).json()) as {
      records: { id: string }[];
      envelopes: unknown[];
    };
    expect(after.records.map((d) => d.id)).toContain(letter?.id);
    expect(after.envelopes).toEqual([]);
  }, 120_000);

  it("a savepoint restored at a new generation drops stale envelopes", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 2 });
    const first = clickBatches(3, 10);
    await ingestAll(l, first.batches);
    await until("first counts", async () => (await counts(l)).length >= total(first.counts));
    const sp = await api(l.url as string, "/jobs/clicks/savepoints", { body: JSON.stringify({ name: "sp1" }) });
    expect(sp.status, await sp.clone().text()).toBe(201);
    const restored = await api(l.url as string, "/jobs/clicks/restore", { body: JSON.stringify({ savepoint: "sp1" }) });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const { generation } = (await restored.json()) as { generation: number };
    expect(generation).toBe(2);
    // A zombie of generation 1 delivers an envelope into the keyed task: it must be dropped.
    const keyed = l.plan.tasks.find((t) => t.keyed)?.id as string;
    const source = l.plan.tasks.find((t) => t.isSource)?.id as string;
    await l.ports.queue.send([
      {
        to: { task: keyed, partition: 0 },
        envelope: { gen: 1, from: `${source}#0`, seq: 1, records: [{ user: "stale", page: "/s", ts: 0 }] },
      },
    ]);
    const second = clickBatches(2, 10, 6, 1000);
    await ingestAll(l, second.batches);
    const want: Record<string, number> = { ...first.counts };
    for (const [u, n] of Object.entries(second.counts)) want[u] = (want[u] ?? 0) + n;
    await until(
      "second counts",
      async () => (await counts(l)).length >= total(want),
      45_000,
      () => describeJob(l),
    );
    const out = await counts(l);
    expect(out.some((c) => c.user === "stale")).toBe(false);
    expectExactlyOnce(out, want);
  }, 120_000);

  it("answers every HTTP error for real", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 1 });
    const base = l.url as string;
    const path = "/jobs/clicks/sources/clicks/events";
    const cases: [string, Promise<Response>, number][] = [
      ["bad JSON", api(base, path, { body: "[{" }), 400],
      ["oversize", api(base, path, { body: JSON.stringify([{ user: "x".repeat(1_100_000), page: "/", ts: 1 }]) }), 413],
      ["schema mismatch", api(base, path, { body: JSON.stringify([{ user: "a", page: "no-slash", ts: 1 }]) }), 422],
      ["no credential", api(base, path, { body: "[]", key: null }), 401],
      ["wrong credential", api(base, path, { body: "[]", key: `${API_KEY}x` }), 401],
      ["unknown job", api(base, "/jobs/nope/sources/clicks/events", { body: "[]" }), 404],
      ["unknown source", api(base, "/jobs/clicks/sources/nope/events", { body: "[]" }), 404],
    ];
    for (const [what, res, status] of cases) {
      const r = await res;
      const body = (await r.json()) as { message?: string };
      expect(r.status, `${what}: ${JSON.stringify(body)}`).toBe(status);
      expect(body.message, what).toBeTruthy();
    }
    // Nothing was ingested by any of them.
    for (let p = 0; p < 4; p++) expect(await l.ports.ingest.head("clicks", "clicks", p)).toBe(0);
  }, 120_000);
});
