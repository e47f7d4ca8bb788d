/**
 * Checkpoint cost by state size on the AWS path's emulators (aws-local: fauxqs,
 * DynamoDB Local, the coordinator's state machine): a keyed counter job whose state
 * holds `keys` keys, fed at a fixed rate by two source partitions into two keyed
 * partitions (so barriers align over two channels). Measures, per state size:
 *
 * - checkpoint duration (trigger → manifest, from the manifests) and alignment;
 * - restore: the coordinator's restore step (abort in flight, new generation, every
 *   log cut back, sources restarted), and recovery: restore start → the first
 *   checkpoint completed in the new generation.
 *
 * The keyed state is written into the store before the job starts, through the
 * store's batch path (`putState`: BatchWriteItem, 25 values a call, as a savepoint
 * restore does): building it record by record through DynamoDB Local would take
 * far longer. The job's hot keys are among them, and the run checks that the job
 * read and updated the preloaded values.
 */

import { buildGraph, defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import { CoordinatorSteps } from "../core/checkpoint/steps.ts";
import { planJob } from "../core/graph/planner.ts";
import { encodeKey, keyGroupOf } from "../core/keys.ts";
import type { CheckpointManifest } from "../core/ports/checkpoint-store.ts";
import { SystemClock } from "../core/ports/clock.ts";
import type { StateChange } from "../core/ports/state-store.ts";
import { DynamoCheckpointStore } from "../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, tableNames } from "../functions/aws/dynamo-client.ts";
import { awsPorts, prepareTables } from "../functions/aws/ports.ts";
import { sqsClient } from "../functions/aws/sqs-queue.ts";
import { startAwsLocal } from "../functions/local/aws-local.ts";
import { type BenchEmulators, withEmulators } from "./emulators.ts";
import { pacedSource } from "./paced-source.ts";
import { quantile } from "./stats.ts";

/** Figures at one state size on the emulators. */
export interface EmulatorCheckpointSize {
  readonly keys: number;
  /** Writing the keys with putState. */
  readonly loadSeconds: number;
  readonly checkpoints: number;
  readonly checkpointMsMedian: number;
  readonly checkpointMsP90: number;
  readonly alignmentMsMedian: number;
  /** Restores measured. */
  readonly restores: number;
  /** The coordinator's restore step (median). */
  readonly restoreMs: number;
  /** Restore start → first checkpoint completed in the new generation (median). */
  readonly recoveryMs: number;
}

/** The emulator checkpoint part. */
export interface EmulatorCheckpointFigure {
  readonly note: string;
  readonly bySize: EmulatorCheckpointSize[];
  /** Median checkpoint at the largest state over the smallest. */
  readonly ratioLargestToSmallest: number;
  /** Restore at the largest state over the smallest. */
  readonly restoreRatioLargestToSmallest: number;
}

const HOT = 1000;
const RATE = 200;
const JOB = "bench-checkpoint-aws";

function counterJob(keys: number): Job {
  const hot = Math.min(keys, HOT);
  return defineJob(JOB, (env) => {
    env.enableCheckpointing(1000);
    env
      .fromSource(pacedSource((i) => (i * 7919) % hot, { rate: RATE, splits: 2, intervalMs: 250 }))
      .keyBy((k) => k)
      .process({
        state: { n: valueState<number>() },
        processElement(_k, ctx) {
          ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
        },
      })
      .uid("counter")
      .sinkTo("none");
  });
}

/** Measures every size in `sizes` (counting `checkpoints` checkpoints after two of warm-up). */
export async function measureEmulatorCheckpoints(o: {
  readonly sizes: readonly number[];
  /** Checkpoints measured per size, after two of warm-up. */
  readonly checkpoints: number;
  /** Restores per size (default 3). */
  readonly restores?: number;
  /** Coordinator wait between rounds, ms (default 1000, the job's interval). */
  readonly intervalMs?: number;
  readonly emulators?: BenchEmulators;
  readonly log?: (line: string) => void;
}): Promise<EmulatorCheckpointFigure> {
  const log = o.log ?? (() => {});
  return withEmulators(o.emulators, async (e) => {
    const bySize: EmulatorCheckpointSize[] = [];
    for (const keys of o.sizes) {
      bySize.push(await measureOne(keys, o.checkpoints, o.restores ?? 3, e, o.intervalMs ?? 1000, log));
      log(`checkpoint on emulators @ ${keys} keys done`);
    }
    const first = bySize[0];
    const last = bySize.at(-1);
    return {
      note:
        "aws-local (fauxqs, DynamoDB Local, aws-local-stepfunctions), keyed counter with 2 source and 2 keyed partitions, " +
        `${RATE} records/s (one read per source partition every 250 ms) over ${HOT} hot keys, a checkpoint round every ${o.intervalMs ?? 1000} ms, coordinator polls every 50 ms; keyed state written ` +
        "beforehand with putState (BatchWriteItem); checkpoint = trigger → manifest; restore = the coordinator's restore " +
        "step; recovery = restore start → first checkpoint completed in the new generation",
      bySize,
      ratioLargestToSmallest: ratio(last?.checkpointMsMedian, first?.checkpointMsMedian),
      restoreRatioLargestToSmallest: ratio(last?.restoreMs, first?.restoreMs),
    };
  });
}

const ratio = (a: number | undefined, b: number | undefined) => Number(((a ?? 0) / (b || 1)).toFixed(2));

async function measureOne(
  keys: number,
  count: number,
  restores: number,
  e: BenchEmulators,
  intervalMs: number,
  log: (line: string) => void,
): Promise<EmulatorCheckpointSize> {
  const { sqs: sqsEndpoint, dynamo: dynamoEndpoint } = e;
  const job = counterJob(keys);
  const plan = planJob(buildGraph(job, { parallelism: 2 }));
  const task = plan.tasks.find((t) => t.keyed);
  if (!task) throw new Error("checkpoint bench: the job has no keyed task");
  const stateId = `${task.operators[0]?.uid ?? task.id}/n`;
  const prefix = `bc${keys}`;
  const loadSeconds = await preload(
    keys,
    task.id,
    task.parallelism,
    stateId,
    plan.maxParallelism,
    prefix,
    sqsEndpoint,
    dynamoEndpoint,
  );
  log(`preloaded ${keys} keys in ${loadSeconds.toFixed(1)} s`);
  const watcher = dynamoClient(dynamoEndpoint);
  const store = new DynamoCheckpointStore(watcher, tableNames(prefix));
  const l = await startAwsLocal({
    job,
    parallelism: 2,
    sqsEndpoint,
    dynamoEndpoint,
    prefix,
    waitMs: { interval: intervalMs, poll: 50 },
    log: () => {},
  });
  try {
    const completed = async (generation: number) =>
      (await store.listManifests(JOB)).filter((m) => m.status === "completed" && m.generation === generation);
    const waitFor = async (what: string, cond: () => Promise<boolean>, ms = 120_000) => {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`checkpoint bench @ ${keys} keys: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await waitFor(`${count + 2} checkpoints`, async () => (await completed(1)).length >= count + 2);
    const ms = (await completed(1)).slice(2, count + 2);
    const steps = new CoordinatorSteps({ ...l.ports, plan: l.plan, graph: l.graph, clock: new SystemClock() });
    const restoreMs: number[] = [];
    const recoveryMs: number[] = [];
    for (let i = 0; i < restores; i++) {
      const t0 = performance.now();
      const { generation } = await steps.restore();
      restoreMs.push(performance.now() - t0);
      await waitFor(`a checkpoint after restore ${i + 1}`, async () => (await completed(generation)).length >= 1);
      recoveryMs.push(performance.now() - t0);
    }
    await checkState(l.ports.state, task.id, stateId, keys, plan.maxParallelism);
    return {
      keys,
      loadSeconds: Number(loadSeconds.toFixed(1)),
      checkpoints: ms.length,
      checkpointMsMedian: quantile(durations(ms), 0.5),
      checkpointMsP90: quantile(durations(ms), 0.9),
      alignmentMsMedian: quantile(
        ms.map((m) => m.alignmentMs ?? 0),
        0.5,
      ),
      restores,
      restoreMs: Number(quantile(restoreMs, 0.5).toFixed(1)),
      recoveryMs: Number(quantile(recoveryMs, 0.5).toFixed(0)),
    };
  } finally {
    await l.stop();
    watcher.destroy();
  }
}

const durations = (ms: readonly CheckpointManifest[]) => ms.map((m) => m.durationMs ?? 0);

/**
 * Writes keys 0..keys-1 with value 1 into the keyed state of `task` (5,000 a call, 4
 * calls in flight), and an empty base into each of its `parallelism` partitions.
 */
async function preload(
  keys: number,
  task: string,
  parallelism: number,
  stateId: string,
  maxParallelism: number,
  prefix: string,
  sqsEndpoint: string,
  dynamoEndpoint: string,
): Promise<number> {
  const sqs = sqsClient(sqsEndpoint);
  const ports = awsPorts({ job: JOB, sqs, dynamoEndpoint, prefix, queueUrl: () => "unused" });
  try {
    await prepareTables(ports);
    const t0 = performance.now();
    const CHUNK = 5000;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < keys; i += CHUNK) {
      const values: StateChange[] = [];
      for (let k = i; k < Math.min(keys, i + CHUNK); k++) {
        const enc = encodeKey(k);
        values.push({ s: stateId, k: enc, g: keyGroupOf(enc, maxParallelism), v: 1 });
      }
      inFlight.push(ports.state.putState(task, values));
      if (inFlight.length >= 4) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    // As a savepoint restore does: an empty base per partition says "state lives in the
    // store" (a partition with neither base nor segments knows its state is empty).
    for (let p = 0; p < parallelism; p++) {
      await ports.state.putBase(task, p, {
        through: 0,
        sentThrough: 0,
        positions: {},
        outSeqs: {},
        opState: {},
        watermarks: {},
        ended: [],
        finished: false,
        buffered: [],
      });
    }
    return (performance.now() - t0) / 1000;
  } finally {
    ports.dynamo.destroy();
    sqs.destroy();
  }
}

/** The job must have counted on top of the preloaded values, and left the cold ones alone. */
async function checkState(
  state: { getState(task: string, refs: { s: string; k: string; g: number }[]): Promise<unknown[]> },
  task: string,
  stateId: string,
  keys: number,
  maxParallelism: number,
): Promise<void> {
  const ref = (k: number) => {
    const enc = encodeKey(k);
    return { s: stateId, k: enc, g: keyGroupOf(enc, maxParallelism) };
  };
  const [hot, cold] = await state.getState(task, [ref(0), ref(keys - 1)]);
  const coldOk = keys - 1 < HOT || cold === 1;
  if (typeof hot !== "number" || hot < 2 || !coldOk) {
    throw new Error(
      `checkpoint bench @ ${keys} keys: the job did not use the preloaded state (key 0 = ${JSON.stringify(hot)}, expected ≥ 2; key ${keys - 1} = ${JSON.stringify(cold)}, expected 1)`,
    );
  }
}
