/**
 * One seeded simulation run: the embedded runtime with a scheduler that shuffles
 * which partition runs next, varies batch sizes, duplicates sends, loses deletes
 * (redelivery after the visibility timeout), runs zombie containers on the same
 * messages (a visibility timeout that expired mid-batch), crashes containers
 * before commit, after commit, mid-send and between batches (also mid-alignment),
 * and fails the whole job over to its last checkpoint now and then. Half the seeds
 * keep segment payloads in a blob store (`OffloadingStateStore`, as on AWS), fold
 * the log by a random policy, and inject the payload protocol's faults: a failed
 * PUT, a crash after the PUT and before the append (an orphan object), slow GETs.
 * The coordinator crashes too (`coordinator-faults.ts`): around the publication's
 * output and marks, and mid-seal; most seeds write the published marks lazily, as a
 * warm AWS coordinator container does (`LazyMarks`), so a crash loses marks it held.
 */
import { LazyMarks } from "../../core/checkpoint/published-marks.ts";
import { scalableTasks } from "../../core/graph/rescale.ts";
import { OffloadingStateStore } from "../../core/log/offloading-store.ts";
import { InMemoryBlobStore } from "../../core/memory/in-memory-blob-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { seededRandom } from "../../core/ml/random.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { type EmbeddedOptions, EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { type BatchResult, TaskRunner } from "../../core/runtime/task-runner.ts";
import { FaultyBlobStore, FaultyQueue, FaultyStore } from "../support/faults.ts";
import { awsInvoke } from "./aws-invoke.ts";
import { CoordinatorFaults, CrashingOutput, coordinatorCall, unsealed, watchSeals } from "./coordinator-faults.ts";
import type { Scenario } from "./scenarios.ts";

/** Faults injected in one run, by kind. */
export interface FaultCounts {
  crashBetweenBatches: number;
  crashBeforeCommit: number;
  crashAfterCommit: number;
  crashMidSend: number;
  duplicateSends: number;
  lostDeletes: number;
  zombies: number;
  failovers: number;
  /** Payload protocol (offloading seeds): a PUT that failed, a crash between PUT and append, slow GETs. */
  failedPuts: number;
  crashAfterPut: number;
  slowReads: number;
  /** Rescales of a scalable task to a random parallelism (1-4), at the next completed checkpoint. */
  rescales: number;
  /** Coordinator crashes around a publication's output and its published marks (`coordinator-faults.ts`). */
  coordinatorMarksCrashes: number;
  /** Coordinator crashes before, after or inside a partition's seal. */
  coordinatorSealCrashes: number;
}

/** Outcome of one seed. */
export interface SeedResult {
  readonly seed: number;
  readonly scenario: string;
  readonly diffs: string[];
  readonly faults: FaultCounts;
  readonly checkpoints: number;
  readonly restarts: number;
  /** Rescales that happened (a requested one waits for a checkpoint; one to the same parallelism is none). */
  readonly rescaled: number;
  /** True when every batch ran through the task Lambda's handler (AWS mode). */
  readonly aws: boolean;
  /** Segment payloads committed as objects (offloading seeds). */
  readonly payloadObjects: number;
  /** True when the published marks were written lazily (`LazyMarks`). */
  readonly lazyMarks: boolean;
}

/** Runs `scenario` under the fault schedule of `seed`. */
export async function simulate(scenario: Scenario, seed: number): Promise<SeedResult> {
  const rng = seededRandom(seed);
  const chance = (p: number) => rng() < p;
  const clock = new ManualClock(0);
  const queue = new FaultyQueue(
    new InMemoryQueue(clock, { visibilityTimeoutMs: 50, maxReceiveCount: 1000, spanGroups: seed % 3 === 0 }),
  );
  // Seeds 0–3 of every 8 keep payloads in a blob store, every payload or those over 300 bytes.
  const offload = seed % 8 < 4;
  const blobs = new FaultyBlobStore(new InMemoryBlobStore(), () => new Promise((r) => setTimeout(r, 0)));
  // Drawn only for offloading seeds, so the other seeds keep their fault schedules.
  const fold = offload
    ? { foldPolicy: { segments: 1 + Math.floor(rng() * 8), checkpoints: 1 + Math.floor(rng() * 4) } }
    : {};
  const memory = new InMemoryStateStore({ copy: seed % 2 === 0, ...fold });
  const coordinatorFaults = new CoordinatorFaults();
  const sealed = watchSeals(memory, coordinatorFaults);
  // Three seeds of five write the published marks lazily, every 1st to 6th publication.
  const marks = seed % 5 < 3 ? new LazyMarks(1 + (Math.floor(seed / 5) % 6)) : undefined;
  const inlineMaxBytes = offload && rng() < 0.5 ? 300 : 0;
  const offloading = offload
    ? new OffloadingStateStore(memory, blobs, { job: scenario.job.name, inlineMaxBytes })
    : undefined;
  const store = new FaultyStore(offloading ?? memory);
  const faults: FaultCounts = {
    crashBetweenBatches: 0,
    crashBeforeCommit: 0,
    crashAfterCommit: 0,
    crashMidSend: 0,
    duplicateSends: 0,
    lostDeletes: 0,
    zombies: 0,
    failovers: 0,
    failedPuts: 0,
    crashAfterPut: 0,
    slowReads: 0,
    rescales: 0,
    coordinatorMarksCrashes: 0,
    coordinatorSealCrashes: 0,
  };
  const output = new Map<string, unknown[]>();
  let checkpoints = 0;
  // Half the seeds run every batch through the task Lambda's handler (AWS mode).
  const aws = seed % 4 >= 2;
  const invoke = awsInvoke(
    { job: scenario.job, state: store, queue, clock, checkpoints: () => rt.checkpoints },
    {
      coldStart: () => {
        const cold = chance(0.03);
        if (cold) faults.crashBetweenBatches++;
        return cold;
      },
      zombie: () => {
        const z = chance(0.02);
        if (z) faults.zombies++;
        return z;
      },
    },
  );
  const rt: EmbeddedRuntime = new EmbeddedRuntime(scenario.job, {
    clock,
    queue,
    store,
    batchTimeMs: 1,
    retryDelayMs: 3,
    output: new CrashingOutput(new InMemoryOutputStore(), coordinatorFaults),
    onOutput: (sink, values) => {
      const arr = output.get(sink) ?? [];
      arr.push(...values);
      output.set(sink, arr);
    },
    onCheckpoint: (e) => {
      if (e.kind === "completed") checkpoints++;
    },
    simulation: {
      order: (tasks) => [...tasks].sort(() => rng() - 0.5),
      coordinatorCall: coordinatorCall(coordinatorFaults, store, marks, rng, 0.08),
      ...(marks ? { marks } : {}),
      batchSize: () => 1 + Math.floor(rng() * 10),
      deleteAfterBatch: () => {
        const lose = chance(0.02);
        if (lose) faults.lostDeletes++;
        return !lose;
      },
      ...(aws
        ? {
            invoke: async (task, messages) => {
              arm(undefined);
              try {
                return await invoke(task, messages);
              } finally {
                queue.disarm();
                store.disarm();
                blobs.disarm();
              }
            },
          }
        : {}),
      wrapBatch: async (runner, messages, run) => {
        arm(runner);
        try {
          return await runWithZombie(runner, messages, run);
        } finally {
          // Faults armed for this container's batch do not outlive it.
          queue.disarm();
          store.disarm();
          blobs.disarm();
        }
      },
    },
  });
  const arm = (runner: TaskRunner | undefined) => {
    queue.duplicate = chance(0.05);
    if (queue.duplicate) faults.duplicateSends++;
    const x = rng();
    if (x < 0.03) {
      if (runner) {
        runner.crash();
        faults.crashBetweenBatches++;
      }
    } else if (x < 0.05) {
      store.crashBeforeAppend = true;
      faults.crashBeforeCommit++;
    } else if (x < 0.07) {
      store.crashAfterAppend = true;
      faults.crashAfterCommit++;
    } else if (x < 0.09) {
      queue.crashSendAfter = Math.floor(rng() * 3);
      faults.crashMidSend++;
    }
    if (offload) {
      const y = rng();
      if (y < 0.02) {
        blobs.failPut = true;
        faults.failedPuts++;
      } else if (y < 0.04) {
        blobs.crashAfterPut = true;
        faults.crashAfterPut++;
      } else if (y < 0.09) {
        blobs.slowGets = true;
        faults.slowReads++;
      }
    }
    if (chance(0.01) && faults.failovers < 3) {
      faults.failovers++;
      rt.requestFailover("injected job failure");
    }
    if (chance(0.01) && faults.rescales < 3) {
      const tasks = scalableTasks(rt.plan);
      const task = tasks[Math.floor(rng() * tasks.length)];
      if (task) {
        faults.rescales++;
        rt.requestRescale({ [task.id]: 1 + Math.floor(rng() * 4) });
      }
    }
  };
  const runWithZombie = async (
    runner: TaskRunner,
    messages: Parameters<NonNullable<NonNullable<EmbeddedOptions["simulation"]>["wrapBatch"]>>[1],
    run: () => Promise<BatchResult>,
  ): Promise<BatchResult> => {
    if (!chance(0.02)) return run();
    faults.zombies++;
    const zombie = new TaskRunner({
      plan: rt.plan,
      graph: rt.graph,
      task: runner.task.id,
      partition: runner.partition,
      queue,
      store,
      clock,
      generation: runner.generation,
      checkpoints: rt.checkpoints,
    });
    const [result] = await Promise.all([run(), zombie.handle(messages)]);
    return result;
  };
  await rt.run();
  for (const [point, n] of coordinatorFaults.fired) {
    if (point.includes("seal")) faults.coordinatorSealCrashes += n;
    else faults.coordinatorMarksCrashes += n;
  }
  return {
    seed,
    scenario: scenario.name,
    // The output against the oracle, and no partition left unsealed by a crash mid-seal.
    diffs: [...scenario.check(output), ...(await unsealed(store, sealed, rt.lastCheckpoint))],
    faults,
    checkpoints,
    restarts: rt.restarts,
    rescaled: rt.rescales,
    aws,
    payloadObjects: offloading?.objectsWritten ?? 0,
    lazyMarks: marks !== undefined,
  };
}
