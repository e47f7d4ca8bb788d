/**
 * The coordinator's steps composed the two ways its drivers use them:
 *
 * - {@link settle}: poll a checkpoint in flight and act on what the poll says:
 *   complete it (publish, compact) or abort it when it timed out. The embedded
 *   driver (`core/runtime/lifecycle.ts`) settles each checkpoint it has in flight;
 * - {@link round}: one round of the AWS coordinator, as ONE Lambda invocation:
 *   settle the checkpoint the previous round followed, fail the job over when that
 *   says so, then trigger the next checkpoint when it is due. The state machine
 *   (`asl.ts`) runs one `round` per wait, so a round costs one invocation, where
 *   trigger, poll and complete were three (plus a Step Functions transition each).
 *
 * Both only sequence {@link CoordinatorSteps}; every decision stays in the steps.
 */

import type { CompleteAnswer, CoordinatorSteps, PollStatus, TriggerAnswer } from "./steps.ts";

/** What settling a checkpoint did. */
export type SettleAnswer =
  | { readonly status: Exclude<PollStatus, "completed" | "timeout"> }
  | {
      readonly status: "completed";
      /** The newest checkpoint completed (it may be later than the one polled). */
      readonly completed: number;
      readonly complete: CompleteAnswer;
    }
  | {
      readonly status: "timeout";
      /** True when the abort leaves too many failed checkpoints in a row: the job must fail over. */
      readonly failover: boolean;
    };

/**
 * Polls checkpoint `id` (without one: only completes what every partition acked,
 * e.g. a finished job's final checkpoint), then publishes a completion or aborts a
 * timeout. A failover the poll asks for is reported, not done: the caller restores.
 * `beforePublish` (the round's trigger) runs after a completion and before its output
 * is published: the completion's job-record change is then written with the
 * trigger's (one record write per checkpoint), and the output only once it is durable.
 * It answers true when the coordinator stops after this round (it fell asleep).
 * The published marks of the completion may wait for a later one (`published-marks.ts`),
 * unless the coordinator stops.
 */
export async function settle(
  steps: CoordinatorSteps,
  id?: number,
  beforePublish?: () => Promise<boolean>,
): Promise<SettleAnswer> {
  const polled = await steps.poll(id, { defer: beforePublish !== undefined });
  if (polled.status === "completed" && polled.completed !== undefined) {
    const stops = (await beforePublish?.()) === true;
    const complete = await steps.complete({ holdMarks: !stops });
    return { status: "completed", completed: polled.completed, complete };
  }
  if (polled.status === "timeout" && id !== undefined) {
    return { status: "timeout", failover: (await steps.abort(id)).failover };
  }
  return { status: polled.status === "completed" || polled.status === "timeout" ? "pending" : polled.status };
}

/** Answer of {@link round}: the trigger's answer, plus what settling the previous checkpoint did. */
export interface RoundAnswer extends TriggerAnswer {
  /** The checkpoint this round completed and published, if any. */
  readonly completed?: number;
  /** Why its checkpoint-complete signals could not be sent (best effort), if they could not. */
  readonly notifyError?: string;
  /** The checkpoint this round aborted (timed out), if any. */
  readonly aborted?: number;
  /** The generation a failover in this round restored to (the next round triggers). */
  readonly restored?: number;
}

/**
 * One round of the coordinator: settles checkpoint `id` (the one the previous round
 * followed; `null` for none), fails the job over when that leaves too many failures
 * (or the job failed for good: `failed`), and otherwise triggers the next checkpoint
 * when the interval says it is due ({@link CoordinatorSteps.trigger} with `whenDue`,
 * which also finds a job finished, asleep, or with a checkpoint still in flight). When
 * the checkpoint completed, the trigger runs before its output is published (see
 * {@link settle}).
 */
export async function round(steps: CoordinatorSteps, id: number | null): Promise<RoundAnswer> {
  let settled: { completed?: number; aborted?: number; notifyError?: string } = {};
  let triggered: TriggerAnswer | undefined;
  const trigger = async () => {
    // The barriers go out while the completed checkpoint's output is published.
    const t = await steps.trigger({ whenDue: true, sendLater: true });
    triggered = t;
    return t.sleeping === true || t.finished === true || t.failed !== undefined;
  };
  if (id !== null) {
    const s = await settle(steps, id, trigger);
    if (s.status === "finished") return { checkpoint: null, finished: true };
    if (s.status === "failover" || (s.status === "timeout" && s.failover)) {
      const r = await steps.restore();
      if (r.failed) {
        await steps.seal();
        return { checkpoint: null, failed: r.failed };
      }
      return { checkpoint: null, restored: r.generation };
    }
    if (s.status === "completed") {
      const notifyError = s.complete.notifyError;
      settled = { completed: s.completed, ...(notifyError === undefined ? {} : { notifyError }) };
    }
    if (s.status === "timeout") settled = { aborted: id };
  }
  if (!triggered) await trigger();
  await steps.sent();
  const answer: RoundAnswer = { ...(triggered as TriggerAnswer), ...settled };
  if (answer.failed) await steps.seal(); // the machine ends in JobFailed: nothing folds after
  return answer;
}
