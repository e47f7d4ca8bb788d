/**
 * Operator uids across versions of a job. State, source positions and a run's
 * parallelism are stored per task, under the uid of the task's head operator, so a
 * uid that changed between runs must be reported as a changed uid (its state is
 * not found under the new one), never as a rescale.
 */

import type { Plan } from "./plan.ts";

/** How a job's task uids differ from the ones an earlier run stored. */
export interface UidChange {
  /** Uids stored earlier that the job no longer has. */
  readonly gone: readonly string[];
  /** Uids of the job that were not stored earlier. */
  readonly added: readonly string[];
  /**
   * Gone uids that are still operators of the job, now chained into another task
   * (gone uid → that task's id): the job's task layout changed (a stored run of an
   * earlier planner, or a changed edge), not the operator's uid.
   */
  readonly chained?: Readonly<Record<string, string>>;
}

/**
 * The change from `stored` (the task uids of an earlier run, checkpoint or
 * savepoint) to `plan`'s task uids; undefined when they are the same.
 */
export function uidChange(plan: Plan, stored: Iterable<string>): UidChange | undefined {
  const now = new Set(plan.tasks.map((t) => t.id));
  const before = new Set(stored);
  const gone = [...before].filter((id) => !now.has(id)).sort();
  const added = [...now].filter((id) => !before.has(id)).sort();
  if (gone.length === 0 && added.length === 0) return undefined;
  const chained: Record<string, string> = {};
  for (const t of plan.tasks) for (const o of t.operators) if (gone.includes(o.uid)) chained[o.uid] = t.id;
  return Object.keys(chained).length > 0 ? { gone, added, chained } : { gone, added };
}

/**
 * One clause naming the change, e.g. `operator uid 'summer' is gone and 'adder' is
 * new: a uid changed, and state is kept under the uid (set the old uid again with .uid(…))`.
 */
export function describeUidChange(change: UidChange): string {
  const list = (ids: readonly string[]) => ids.map((id) => `'${id}'`).join(", ");
  const { gone, added, chained = {} } = change;
  if (gone.length === 0) return `operator uid ${list(added)} ${added.length === 1 ? "is" : "are"} new`;
  if (gone.every((uid) => uid in chained)) {
    const where = gone.map((uid) => `'${uid}' now runs chained in task '${chained[uid]}'`).join(", ");
    return (
      `the job's tasks changed: operator ${where}${added.length > 0 ? ` and task ${list(added)} is new` : ""} ` +
      "(the planner chains a forward consumer into its input's task even when that input has other consumers), " +
      "and partitions, state and channels are kept per task"
    );
  }
  const instead = added.length > 0 ? ` and ${list(added)} ${added.length === 1 ? "is" : "are"} new` : "";
  return (
    `operator uid ${list(gone)} ${gone.length === 1 ? "is" : "are"} gone${instead}: ` +
    "a uid changed, and state is kept under the uid (set the old uid again with .uid(…))"
  );
}
