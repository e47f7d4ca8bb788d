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
    // Timers are keyed state: find this partition's, and load the state of their keys
    // so that firing them needs no store read.
    const keyed = chain.keyed;
    const { timers } = keyed;
    const scan = (s: string) => store.scanState(task.id, s, keyGroups.start, keyGroups.end);
    const stored = await scan(timers.stateId);
    // The keys holding the state that implies their event-time timers, if the operator has such.
    const implying = timers.implied ? await scan(timers.implied.stateId) : [];
    const refs: StateRef[] = [];
    for (const enc of new Set([...stored, ...implying].map(([enc]) => enc))) {
      for (const s of keyed.stateIds) refs.push({ s, k: enc, g: keyGroupOf(enc, plan.maxParallelism) });
    }
    if (refs.length > 0) backend.load(refs, await store.getState(task.id, refs));
    const group = (enc: string) => keyGroupOf(enc, plan.maxParallelism);
    timers.restore(stored.map(([enc, t]) => [enc, group(enc), decodeKey(enc), t as KeyTimers] as const));
    if (timers.implied) timers.restoreImplied(implying.map(([enc]) => [enc, group(enc), decodeKey(enc)] as const));
  }
  await chain.open();
  return { view, chain, router, services, writes };
}
