/**
 * Checks that a job refuses a savepoint of an operator's earlier state layout: the job runs to a
 * savepoint, which is stored again with the uids of `layout` renamed as the earlier layout named
 * them; restoring that copy must fail naming the uid, and restoring the savepoint itself must not.
 */
import { expect } from "vitest";
import type { Job } from "../../core/api/environment.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { Savepoint } from "../../core/ports/checkpoint-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";

/**
 * Runs `job` (named `name`, checkpointing) to a savepoint, renames its uids ending in `-${layout}`
 * to end in `older` instead ("" for none), and expects a restore of the copy to be refused (with
 * `refusal`, by default the message naming one such uid).
 */
export async function expectOlderLayoutRefused(
  job: Job,
  name: string,
  layout: string,
  older: string,
  refusal?: RegExp,
): Promise<void> {
  const checkpoints = new InMemoryCheckpointStore();
  const opts = { clock: new ManualClock(), store: new InMemoryStateStore(), checkpoints, batchTimeMs: 1 };
  const stop = new AbortController();
  await new EmbeddedRuntime(job, {
    ...opts,
    signal: stop.signal,
    stopWithSavepoint: "now",
    onOutput: () => stop.abort(),
  }).run();
  const now = (await checkpoints.getSavepoint(name, "now")) as Savepoint;
  const suffix = new RegExp(`-${layout}$`);
  const rename = (r: Readonly<Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(suffix, older), v]));
  expect(Object.keys(now.state).some((t) => suffix.test(t))).toBe(true);
  await checkpoints.putSavepoint({
    ...now,
    name: "old",
    parallelism: rename(now.parallelism) as Savepoint["parallelism"],
    state: rename(now.state) as Savepoint["state"],
  });
  const gone =
    refusal ??
    new RegExp(
      `holds state the job has no operator for: operator uid 'sql-\\d+${older}' is gone and 'sql-\\d+-${layout}' is new`,
    );
  await expect(new EmbeddedRuntime(job, { ...opts, fromSavepoint: "old" }).run()).rejects.toThrow(gone);
  // The savepoint of this layout restores.
  await expect(new EmbeddedRuntime(job, { ...opts, fromSavepoint: "now" }).run()).resolves.toBeUndefined();
}
