/**
 * Regression on the AWS runtime (emulators): a replayed dead letter is not lost
 * when a restore follows the replay (issue 11, aws-local chaos seeds 37 and 43).
 * The replay marked the letter replayed at once; a restore to a savepoint taken
 * before the replay undid the replay's output but left the mark, so no replay
 * would ever send the record again. Now the restore clears the mark of every
 * replay its state does not hold, and a second replay commits the record once.
 */

import { describe, expect, it } from "vitest";
import clicks, { faults } from "../../examples/clicks.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import { api, awsLocalJobs, describeJob, readOutput, until } from "../support/aws-local-harness.ts";

type Count = { user: string; n: number };
type Letter = { id: string; replayedAt?: number; value: { user: string } };

const jobs = awsLocalJobs(() => {
  faults.poisonFixed = false;
});

const post = async (l: AwsLocal, path: string, body: unknown) => {
  const res = await api(l.url as string, `/jobs/clicks${path}`, { body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const letters = async (l: AwsLocal) =>
  ((await (await api(l.url as string, "/jobs/clicks/dlq")).json()) as { records: Letter[] }).records;
const counts = (l: AwsLocal) => readOutput<Count>(l.ports.output, "clicks", "counts");
const ada = async (l: AwsLocal) => (await counts(l)).filter((c) => c.user === "ada");

describe("aws-local: dead-letter replay, then a restore to before it", () => {
  it("clears the replayed mark, and a second replay commits the record once in the restored job", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 2 });
    expect(
      (
        await post(l, "/sources/clicks/events", [
          { user: "ada", page: "/poison", ts: 1 },
          { user: "bob", page: "/b", ts: 2 },
        ])
      ).status,
    ).toBe(202);
    await until("ada's dead letter", async () => (await letters(l)).length === 1);
    await until("bob's count", async () => (await counts(l)).some((c) => c.user === "bob"));
    // The savepoint holds the dead-lettering, not the replay.
    const sp = await post(l, "/savepoints", { name: "before-replay" });
    expect(sp.status, JSON.stringify(sp.body)).toBe(201);

    faults.poisonFixed = true;
    expect((await post(l, "/dlq/replay", {})).body).toEqual({ replayed: 1 });
    await until("ada's count from the replay", async () => (await ada(l)).length === 1);
    const restored = await post(l, "/restore", { savepoint: "before-replay" });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);

    // The restored job has not counted ada: its letter is replayable again.
    const [letter] = await letters(l);
    expect(letter?.replayedAt, JSON.stringify(letter)).toBeUndefined();
    expect((await post(l, "/dlq/replay", {})).body).toEqual({ replayed: 1 });
    await until(
      "ada's count in the restored job",
      async () => (await ada(l)).length === 2,
      60_000,
      () => describeJob(l),
    );
    // Once in each generation, and nothing more once the job is quiet.
    await until("the job quiet", async () => l.coordinatorAsleep(), 45_000);
    expect(await ada(l)).toEqual([
      { user: "ada", n: 1 },
      { user: "ada", n: 1 },
    ]);
    expect((await letters(l)).map((d) => d.replayedAt !== undefined)).toEqual([true]);
    expect((await post(l, "/dlq/replay", {})).body).toEqual({ replayed: 0 });
  }, 180_000);
});
