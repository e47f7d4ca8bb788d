/**
 * The simulation's coordinator faults: the coordinator's container dies inside a
 * settle, a restore or an autoscale round (the calls the Step Functions machine runs
 * as Lambda tasks), and the machine runs the call again in a fresh container, which
 * has lost the published marks the dead one held (`core/checkpoint/published-marks.ts`).
 * The crash points, each one-shot:
 *
 * - `after-output`: the output of a publication is written, its marks are not;
 * - `before-marks` / `after-marks`: around the durable write of the published marks;
 * - `before-seal` / `after-seal`: around one partition's seal (the final checkpoint's),
 *   so the job's other partitions are left unsealed or mid-seal;
 * - `seal-before-sweep`: inside a seal, after the fold and before the payload store
 *   deletes the objects it passed (offloading seeds).
 *
 * And the check that a crash mid-seal cannot leave behind: once the job finished,
 * every partition of its final checkpoint is sealed through its cut, or folded past it.
 */

import type { LazyMarks } from "../../core/checkpoint/published-marks.ts";
import type { CheckpointManifest } from "../../core/ports/checkpoint-store.ts";
import { DelegatingOutputStore } from "../../core/ports/delegating-output-store.ts";
import type { OutputStore, PublishedSegment } from "../../core/ports/output-store.ts";
import type { StateStore } from "../../core/ports/state-store.ts";
import { type FaultyStore, InjectedCrash } from "../support/faults.ts";

/** Where a coordinator crash is armed. */
export type CoordinatorCrashPoint =
  | "after-output"
  | "before-marks"
  | "after-marks"
  | "before-seal"
  | "after-seal"
  | "seal-before-sweep";

const POINTS: readonly CoordinatorCrashPoint[] = [
  "after-output",
  "before-marks",
  "after-marks",
  "before-seal",
  "after-seal",
  "seal-before-sweep",
];

/** One-shot crash points of the coordinator; see the module comment. */
export class CoordinatorFaults {
  private armed: CoordinatorCrashPoint | undefined;
  /** Crashes that fired, by point. */
  readonly fired = new Map<CoordinatorCrashPoint, number>();

  /** Arms the point `pick` (a number in [0, 1)) selects, and returns it. */
  arm(pick: number): CoordinatorCrashPoint {
    const point = POINTS[Math.floor(pick * POINTS.length)] as CoordinatorCrashPoint;
    this.armed = point;
    return point;
  }

  disarm(): void {
    this.armed = undefined;
  }

  /** Throws {@link InjectedCrash} if `point` is armed (once). */
  hit(point: CoordinatorCrashPoint): void {
    if (this.armed !== point) return;
    this.armed = undefined;
    throw new InjectedCrash(`in the coordinator, ${point}`);
  }

  /** Counts a crash at `point` that fired. */
  count(point: CoordinatorCrashPoint): void {
    this.fired.set(point, (this.fired.get(point) ?? 0) + 1);
  }

  /** Crashes fired in all. */
  get total(): number {
    let n = 0;
    for (const v of this.fired.values()) n += v;
    return n;
  }
}

/**
 * The driver's `coordinatorCall`: arms a crash point with probability `p` (`rng` draws;
 * the seal's on `store`), runs the call, and after a crash forgets the marks the
 * container held (`marks`) and runs it again, as Step Functions retries a Lambda task.
 */
export function coordinatorCall(
  faults: CoordinatorFaults,
  store: FaultyStore<StateStore>,
  marks: LazyMarks | undefined,
  rng: () => number,
  p: number,
): <T>(call: () => Promise<T>) => Promise<T> {
  return async <T>(call: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      let point: CoordinatorCrashPoint | undefined;
      if (attempt === 0 && rng() < p) {
        point = faults.arm(rng());
        if (point === "before-seal") store.crashBeforeSeal = true;
        if (point === "after-seal") store.crashAfterSeal = true;
      }
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof InjectedCrash) || point === undefined) throw e;
        faults.count(point);
        marks?.forget(); // a fresh container knows only what is durable
      } finally {
        faults.disarm();
        store.crashBeforeSeal = false;
        store.crashAfterSeal = false;
      }
    }
  };
}

/** Wraps `memory.seal` (before a payload store wraps it): crash point `seal-before-sweep`, and each partition's seal recorded. */
export function watchSeals(memory: StateStore, faults: CoordinatorFaults): Map<string, number> {
  const sealed = new Map<string, number>();
  const seal = memory.seal?.bind(memory);
  if (!seal) return sealed;
  memory.seal = async (task, partition, through) => {
    const upTo = await seal(task, partition, through);
    const key = `${task}#${partition}`;
    sealed.set(key, Math.max(sealed.get(key) ?? 0, through));
    faults.hit("seal-before-sweep");
    return upTo;
  };
  return sealed;
}

/** Partitions of a finished job's final checkpoint that are neither sealed through their cut nor folded past it. */
export async function unsealed(
  state: StateStore,
  sealed: ReadonlyMap<string, number>,
  last: CheckpointManifest | undefined,
): Promise<string[]> {
  if (!last?.final || !last.cut) return [];
  const out: string[] = [];
  for (const [key, cut] of Object.entries(last.cut)) {
    const i = key.lastIndexOf("#");
    const base = (await state.readBase(key.slice(0, i), Number(key.slice(i + 1))))?.through ?? 0;
    if ((sealed.get(key) ?? 0) < cut && base < cut) out.push(`${key} not sealed through ${cut} (base ${base})`);
  }
  return out;
}

/** An output store with the coordinator's crash points around publishing and the marks. */
export class CrashingOutput extends DelegatingOutputStore {
  private readonly faults: CoordinatorFaults;

  constructor(inner: OutputStore, faults: CoordinatorFaults) {
    super(inner);
    this.faults = faults;
  }

  override async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    await super.publish(job, segments);
    this.faults.hit("after-output");
  }
  override async setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void> {
    this.faults.hit("before-marks");
    await super.setPublished(job, through);
    this.faults.hit("after-marks");
  }
}
