/**
 * Builds the live state of one task partition: its committed view (base +
 * segments), operator chain, router and keyed cache. A warm runner keeps it; a
 * cold one (new container, after a crash) calls {@link loadPartition}.
 */

import { IDLE_WATERMARK } from "../envelope.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { decodeKey, keyGroupOf, keyGroupRange } from "../keys.ts";
import { foldLog, readPartition } from "../log/read.ts";
import type { PartitionView } from "../log/view.ts";
import type { KeyedProcessOperator } from "../operators/keyed-process.ts";
import type { TaskServices } from "../operators/operator.ts";
import type { Clock } from "../ports/clock.ts";
import type { StateRef, StateStore } from "../ports/state-store.ts";
import { buildChain, type Chain } from "./chain.ts";
import { KeyedBackend } from "./keyed-backend.ts";
import { Router } from "./router.ts";
import type { KeyTimers } from "./timers.ts";

/** The live partition. */
export interface Live {
  readonly view: PartitionView;
  readonly chain: Chain;
  readonly router: Router;
  readonly services: TaskServices;
  /** The batch's operator-state writes (the runner points this at each slice's map). */
  readonly writes: { map: Map<string, unknown> };
}

/** Loads `task[partition]` from the store. */
export async function loadPartition(
  plan: Plan,
  graph: JobGraph,
  task: TaskPlan,
  partition: number,
  store: StateStore,
  clock: Clock,
  generation: number,
  channels: readonly string[],
): Promise<Live> {
  // Payloads only where the view needs them: the outboxes it may have to send again.
  const log = await readPartition(store, task.id, partition, "unsent");
  const { base, segments } = log;
  const view = foldLog(log);
  view.dropOlderThan(generation);
  const empty = base === undefined && segments.length === 0;
  const keyGroups = keyGroupRange(partition, task.parallelism, plan.maxParallelism);
  const backend = task.keyed ? new KeyedBackend(empty) : undefined;
  const writes = { map: new Map<string, unknown>() };
  const services: TaskServices = {
    backend,
    operatorState: {
      get: (k) => (writes.map.has(k) ? writes.map.get(k) : view.opState.get(k)),
      set: (k, v) => {
        writes.map.set(k, v);
      },
    },
    sinks: new Map(),
    staged: new Map(),
    epochStaged: (uid) => view.staged.get(uid) ?? [],
    deadLetters: [],
    now: clock.now(),
    watermark: Number.NEGATIVE_INFINITY,
    keyGroups,
    maxParallelism: plan.maxParallelism,
  };
  const wm = view.watermarkOver(channels);
  if (wm < IDLE_WATERMARK) services.watermark = wm;
  const router = new Router(plan, graph, task, partition);
  const chain = buildChain(graph, task, router, services, { partition, generation });
  if (chain.keyed && backend && !empty) {
    await restoreTimers(chain.keyed, backend, (s) => store.scanState(task.id, s, keyGroups.start, keyGroups.end), {
      getState: (refs) => store.getState(task.id, refs),
      maxParallelism: plan.maxParallelism,
    });
  }
  await chain.open();
  return { view, chain, router, services, writes };
}

/**
 * After a cold load: the keyed operator's timers, stored ones and those its state implies, with
 * the state of their keys loaded so that firing them needs no store read. `scan` reads one state
 * of the partition's key groups.
 */
async function restoreTimers(
  keyed: KeyedProcessOperator,
  backend: KeyedBackend,
  scan: (s: string) => Promise<[string, unknown][]>,
  from: { readonly getState: (refs: readonly StateRef[]) => Promise<unknown[]>; readonly maxParallelism: number },
): Promise<void> {
  const { timers } = keyed;
  const stored = await scan(timers.stateId);
  // The keys holding the state that implies their event-time timers, if the operator has such.
  const implying = timers.implied ? await scan(timers.implied.stateId) : [];
  // A scanned state's values are known for every key (a key the scan did not find has none): not read again.
  const scanned = new Map([[timers.stateId, new Map(stored)]]);
  if (timers.implied) scanned.set(timers.implied.stateId, new Map(implying));
  const read: StateRef[] = [];
  const known: StateRef[] = [];
  const knownValues: unknown[] = [];
  const group = (enc: string) => keyGroupOf(enc, from.maxParallelism);
  for (const enc of new Set([...stored, ...implying].map(([enc]) => enc))) {
    for (const s of keyed.stateIds) {
      const ref = { s, k: enc, g: group(enc) };
      const values = scanned.get(s);
      if (!values) read.push(ref);
      else {
        known.push(ref);
        knownValues.push(values.get(enc));
      }
    }
  }
  if (read.length > 0) backend.load(read, await from.getState(read));
  backend.load(known, knownValues);
  timers.restore(stored.map(([enc, t]) => [enc, group(enc), decodeKey(enc), t as KeyTimers] as const));
  if (timers.implied)
    timers.restoreImplied(implying.map(([enc, value]) => [enc, group(enc), decodeKey(enc), value] as const));
}
