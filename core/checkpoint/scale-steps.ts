/**
 * The coordinator's scaling steps: `rescale` (restore the newest completed checkpoint
 * of the running generation at a new parallelism, in place) and `autoscale` (measure
 * the scalable tasks, decide, rescale, set the event sources' concurrency). They run
 * as methods of `CoordinatorSteps` (`steps.ts`), over its {@link StepScope}; the
 * mechanics are in `rescale.ts`.
 */

import { isScalable, rescaledPlan } from "../graph/rescale.ts";
import type { JobRecord } from "../ports/checkpoint-store.ts";
import { applyConcurrency, autoscaleEveryMs, autoscaleRound, rescaleAt } from "./rescale.ts";
import { startEntries } from "./signals.ts";
import type { StepScope } from "./step-scope.ts";

/** Answer of the rescale step. */
export interface RescaleAnswer {
  /** True when the job now runs at the new parallelism. */
  readonly rescaled: boolean;
  /** The new generation. */
  readonly generation?: number;
  /** The checkpoint it was rescaled at. */
  readonly checkpoint?: number;
}

/** Answer of the autoscale step. */
export interface AutoscaleAnswer extends Partial<RescaleAnswer> {
  /** False when no round ran (no autoscale, not due, restoring, sleeping). */
  readonly checked: boolean;
  /** Each task's parallelism after the round. */
  readonly parallelism?: Readonly<Record<string, number>>;
  /** Per scalable task: why it stays or changes, and what was measured. */
  readonly reasons?: Readonly<Record<string, string>>;
}

/** How often the autoscale round sets every scalable task's concurrency again, changed or not. */
export const REAPPLY_CONCURRENCY_MS = 5 * 60_000;

/** Publishes the newest completed checkpoint's output (the complete step). */
type Complete = () => Promise<unknown>;

/** The rescale step: see `CoordinatorSteps.rescale`. */
export async function rescaleStep(
  s: StepScope,
  complete: Complete,
  parallelism: Readonly<Record<string, number>>,
): Promise<RescaleAnswer> {
  await s.sync();
  const record = await s.record();
  const target = rescaledPlan(s.deployed.plan, { ...record.parallelism, ...parallelism });
  if (target === s.context.plan || record.restoring || record.failed) return { rescaled: false };
  if (target.tasks.every((t, i) => t.parallelism === s.context.plan.tasks[i]?.parallelism)) {
    return { rescaled: false };
  }
  await complete();
  const coordinator = await s.coordinator();
  const last = await coordinator.lastCompleted();
  if (!last?.cut || last.final || last.generation !== record.generation) return { rescaled: false };
  s.rescaled = true;
  const generation = await rescaleAt(s.context, coordinator, last, target);
  await s.sync();
  await s.context.queue.send(startEntries(s.context.plan, generation));
  return { rescaled: true, generation, checkpoint: last.id };
}

/** The autoscale step: see `CoordinatorSteps.autoscale`. */
export async function autoscaleStep(s: StepScope, complete: Complete): Promise<AutoscaleAnswer> {
  const config = s.deployed.graph.config.aws.autoscale;
  const { scaler, clock } = s.deployed;
  if (!config || !scaler) return { checked: false };
  await s.sync();
  const record = await s.record();
  const now = clock.now();
  if (record.restoring || record.failed || record.sleeping) return { checked: false };
  if (record.autoscale && now - record.autoscale.at < autoscaleEveryMs(config)) return { checked: false };
  const round = await autoscaleRound(s.context.plan, s.context.state, scaler, config, record, now);
  const keep = (r: JobRecord) => ({ applied: r.autoscale?.applied ?? {}, appliedAt: r.autoscale?.appliedAt });
  await s.saveRecord((r) => ({ ...r, autoscale: { ...round.memory, ...keep(r) } }));
  const changed = Object.keys(round.changes).length > 0;
  const r = changed ? await rescaleStep(s, complete, round.changes) : { rescaled: false as const };
  // Applied again now and then: a redeploy puts the stack's MaximumConcurrency back.
  const before = (await s.record()).autoscale;
  const stale = now - (before?.appliedAt ?? 0) >= REAPPLY_CONCURRENCY_MS;
  const applied = await applyConcurrency(s.context.plan, scaler, stale ? {} : (before?.applied ?? {}));
  if (stale || JSON.stringify(applied) !== JSON.stringify(before?.applied ?? {})) {
    const appliedAt = stale ? now : before?.appliedAt;
    await s.saveRecord((x) => ({ ...x, autoscale: { ...(x.autoscale ?? round.memory), applied, appliedAt } }));
  }
  const parallelism = Object.fromEntries(s.context.plan.tasks.map((t) => [t.id, t.parallelism]));
  const reasons = Object.fromEntries(
    Object.entries(round.decisions).map(([t, d]) => [
      t,
      `${d.reason} (backlog ${d.backlog}, rate ${d.rate === undefined ? "?" : d.rate.toFixed(1)}/s)`,
    ]),
  );
  return { checked: true, ...r, parallelism, reasons };
}

/**
 * True while autoscaling may still scale a task in: the coordinator must stay awake
 * for it (on AWS the Trigger has no scaler; Poll and Complete, which scale, do).
 */
export function aboveMin(s: StepScope): boolean {
  const config = s.deployed.graph.config.aws.autoscale;
  if (!config) return false;
  return s.context.plan.tasks.some((t) => isScalable(s.context.plan, t) && t.parallelism > config.min);
}
