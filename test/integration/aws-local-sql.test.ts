/**
 * A SQL job on the AWS runtime's emulators, like any other job: examples/sql/click-counts.sql,
 * loaded as `riffle dev` loads it, takes clicks over HTTP through its `ingest` table (the record
 * schema made from the DDL refuses a record of the wrong type with 422), and commits its
 * group aggregate's changelog, which folds to the oracle's counts, through the real handlers,
 * queues, state machine and DynamoDB.
 */
import { describe, expect, it } from "vitest";
import { loadJob } from "../../cli/load-job.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { api, awsLocalJobs, describeJob, readOutput, until } from "../support/aws-local-harness.ts";

const jobs = awsLocalJobs();
const USERS = ["ada", "bob", "cy"];

describe("aws-local: a SQL job with an ingest table", () => {
  it("takes events over HTTP, refuses a mistyped one, and commits the counts", async () => {
    const job = await loadJob("examples/sql/click-counts.sql");
    expect(job.name).toBe("click-counts");
    const l = await jobs.start({ job, parallelism: 2 });
    const post = (body: unknown) =>
      api(l.url as string, "/jobs/click-counts/sources/clicks/events", { body: JSON.stringify(body) });

    const bad = await post([
      { user: "ada", page: "/a", ts: 1 },
      { user: 7, page: "/b", ts: 2 },
    ]);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/user: expected VARCHAR, got 7/);

    const want = new Map<string, number>();
    for (let batch = 0; batch < 6; batch++) {
      const clicks = Array.from({ length: 10 }, (_, i) => {
        const user = USERS[((batch * 10 + i) % 7) % 3] as string;
        want.set(user, (want.get(user) ?? 0) + 1);
        return { user, page: `/p${i}`, ts: i % 2 === 0 ? batch * 1000 + i : new Date(batch * 1000 + i).toISOString() };
      });
      const res = await post(clicks);
      expect(res.status, await res.clone().text()).toBe(202);
    }
    const expected = [...want].map(([user, n]) => ({ user, n })).sort((a, b) => a.user.localeCompare(b.user));
    const counts = async () =>
      foldChangelog(await readOutput(l.ports.output, "click-counts", "counts")).sort((a, b) =>
        String(a.user).localeCompare(String(b.user)),
      );
    await until(
      "the counts committed",
      async () => JSON.stringify(await counts()) === JSON.stringify(expected),
      60_000,
      () => describeJob(l),
    );
    expect(await counts()).toEqual(expected);
  }, 120_000);
});
