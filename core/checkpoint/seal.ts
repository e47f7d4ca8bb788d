/**
 * Sealing the logs before the coordinator stops making rounds. On a store whose
 * segments expire unless a fold passes them (DynamoDB: a segment carries a TTL from
 * its write, so that a fold costs no write per segment), a job that sleeps, finishes
 * or failed folds no more, yet a restore (a wake, a resume) may still need every
 * segment above the base. So before the coordinator stops, every partition is
 * sealed ({@link StateStore.seal}): folded through the cut it may fold (when the
 * cut's output is published), and what is left above the base made permanent.
 */

import { mapLimit } from "../concurrency.ts";
import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import type { StateStore } from "../ports/state-store.ts";

/** Partitions sealed at once. */
const SEAL_CONCURRENCY = 8;
/** Attempts while another compaction of a partition holds its lease. */
const SEAL_ATTEMPTS = 50;
const SEAL_RETRY_MS = 100;

/**
 * Seals every partition of `plan` on `state` (nothing on a store without `seal`):
 * folds each through its segment in `cut` (a published cut; absent: folds nothing),
 * then makes what is left permanent. Throws when it cannot (the caller must not stop).
 */
export async function sealLogs(
  plan: Plan,
  state: StateStore,
  cut: Readonly<Record<string, number>> | undefined,
): Promise<void> {
  const seal = state.seal?.bind(state);
  if (!seal) return;
  const partitions = plan.tasks.flatMap((t) => Array.from({ length: t.parallelism }, (_, p) => ({ task: t.id, p })));
  await mapLimit(partitions, SEAL_CONCURRENCY, async ({ task, p }) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await seal(task, p, cut?.[`${task}#${p}`] ?? 0);
        return;
      } catch (e) {
        const busy = e instanceof RiffleError && e.reason === "compaction-busy";
        if (!busy || attempt >= SEAL_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, SEAL_RETRY_MS));
      }
    }
  });
}
