/**
 * Builds the operator chain of one task partition from the plan and the job graph.
 */

import type { KeySelector, RichFunction, RuntimeContext } from "../api/functions.ts";
import type { Source } from "../api/source.ts";
import { originalChannel } from "../envelope.ts";
import { InternalError } from "../errors.ts";
import { type GraphNode, type InputEdge, type JobGraph, type NodeOp, userFunctionOf } from "../graph/graph.ts";
import type { OperatorPlan, TaskPlan } from "../graph/plan.ts";
import type { Key } from "../keys.ts";
import { AsyncWaitOperator } from "../operators/async-wait.ts";
import { BroadcastProcessOperator } from "../operators/broadcast-process.ts";
import { KeyedProcessOperator } from "../operators/keyed-process.ts";
import type { Operator, TaskServices } from "../operators/operator.ts";
import { emitsSideOutputs, OutputSelector } from "../operators/side-output.ts";
import { FilterOperator, FlatMapOperator, MapOperator, SinkOperator, SourceOperator } from "../operators/stateless.ts";
import { StreamProcessOperator } from "../operators/stream-process.ts";
import { TimestampsOperator } from "../operators/timestamps.ts";
import { TwoPhaseCommitSinkOperator } from "../operators/two-phase-sink.ts";
import type { Router, RouterOutput } from "./router.ts";

/** The built chain. */
export interface Chain {
  /** Entry point of records. */
  readonly head: Operator;
  /** The head, when it is a keyed process operator. */
  readonly keyed: KeyedProcessOperator | undefined;
  /** The head, when it is an async I/O operator (its results are prefetched per slice). */
  readonly async: AsyncWaitOperator | undefined;
  /** The source, when the task reads one. */
  readonly source: Source<unknown> | undefined;
  /** Input edge index of the channel `task#partition` (0 for the source's own channels). */
  readonly inputOf: (channel: string) => number;
  /** Opens the chain's rich functions, tail first (so an operator opens after those it emits to). */
  readonly open: () => Promise<void>;
  /** Closes them, head first; what a `close` throws is ignored (the chain is being dropped anyway). */
  readonly close: () => Promise<void>;
}

/** Where a chain runs: what its rich functions' runtime context says. */
export interface ChainSite {
  readonly partition: number;
  readonly generation: number;
}

/** Terminal operator: hands an operator's records and signals to its out edges in the router. */
class RouterOperator implements Operator {
  private readonly out: RouterOutput;
  constructor(out: RouterOutput) {
    this.out = out;
  }
  processRecord(value: unknown, time: number | undefined): void {
    this.out.collect(value, time);
  }
  processWatermark(watermark: number): void {
    this.out.signal({ kind: "watermark", t: watermark });
  }
  processTime(): void {}
  endInput(): void {
    this.out.signal({ kind: "end" });
  }
}

/** Nothing follows: an operator with no consumer (a sink at the end of its branch). */
const NOWHERE: Operator = {
  processRecord() {},
  processWatermark() {},
  processTime() {},
  endInput() {},
};

/**
 * A fork in the chain: passes every record and signal to each branch, in plan order
 * (Flink's broadcasting output collector). Branches get the same record object, as
 * forward and broadcast edges of the embedded runtime always did: operators must not
 * mutate their input.
 */
class ForkOperator implements Operator {
  private readonly branches: readonly Operator[];
  constructor(branches: readonly Operator[]) {
    this.branches = branches;
  }
  processRecord(value: unknown, time: number | undefined, input: number): void {
    for (const b of this.branches) b.processRecord(value, time, input);
  }
  processWatermark(watermark: number): void {
    for (const b of this.branches) b.processWatermark(watermark);
  }
  processTime(now: number): void {
    for (const b of this.branches) b.processTime(now);
  }
  endInput(): void {
    for (const b of this.branches) b.endInput();
  }
  notifyCheckpointComplete(n: number): void {
    for (const b of this.branches) b.notifyCheckpointComplete?.(n);
  }
  prepareSnapshotPreBarrier(n: number): void {
    for (const b of this.branches) b.prepareSnapshotPreBarrier?.(n);
  }
  flush(): void {
    for (const b of this.branches) b.flush?.();
  }
}

/** Builds the chain of `task`, tail first, ending in `router`. */
export function buildChain(
  graph: JobGraph,
  task: TaskPlan,
  router: Router,
  services: TaskServices,
  site: ChainSite,
): Chain {
  let keyed: KeyedProcessOperator | undefined;
  let async: AsyncWaitOperator | undefined;
  let source: Source<unknown> | undefined;
  /** Rich functions with their runtime contexts, every operator after those it emits to. */
  const rich: [RichFunction, RuntimeContext][] = [];
  /** What operator `i` of the chain emits to: its chained consumers and its own out edges. */
  const downstreamOf = (i: number): Operator => {
    const plan = task.operators[i] as OperatorPlan;
    const sides = emitsSideOutputs(nodeOf(graph, task, i).op.kind);
    const branches: Operator[] = [];
    task.operators.forEach((o, j) => {
      if (o.input !== i) return;
      const built = build(j);
      const edge = graph.nodes[o.node]?.inputs[0];
      // The chained edge selects the operator's main output or a side output.
      branches.push(sides ? new OutputSelector(o.uid, built, edge?.output) : built);
    });
    const out = router.outputOf(plan.node);
    if (out) branches.push(new RouterOperator(out));
    if (branches.length > 1) return new ForkOperator(branches);
    return branches[0] ?? NOWHERE;
  };
  const build = (i: number): Operator => {
    const plan = task.operators[i] as OperatorPlan;
    const next = downstreamOf(i);
    const op = nodeOf(graph, task, i).op;
    const fn = richOf(op);
    if (fn) {
      const { partition, generation } = site;
      rich.push([fn, { job: graph.name, operator: plan.uid, partition, parallelism: task.parallelism, generation }]);
    }
    const built = operatorOf(graph, task, i, next, services, site);
    if (op.kind === "source") source = op.source;
    if (op.kind === "async") async = built as AsyncWaitOperator;
    if (built instanceof KeyedProcessOperator) keyed = built;
    return built;
  };
  const head = build(0);
  const inputIndex = new Map(task.inputs.map((input, i) => [input.sender, i]));
  const inputOf = (channel: string) => {
    const c = originalChannel(channel);
    return inputIndex.get(c.slice(0, c.lastIndexOf("#"))) ?? 0;
  };
  const open = async () => {
    for (const [f, ctx] of rich) await f.open?.(ctx);
  };
  const close = async () => {
    for (const [f] of [...rich].reverse()) {
      try {
        await f.close?.();
      } catch {
        // Ignored by contract: close runs while the chain is dropped, often after a failure.
      }
    }
  };
  return { head, keyed, async, source, inputOf, open, close };
}

/** The graph node of operator `i` of `task`'s chain. */
function nodeOf(graph: JobGraph, task: TaskPlan, i: number): GraphNode {
  const plan = task.operators[i];
  const node = plan ? graph.nodes[plan.node] : undefined;
  if (!plan || !node) throw new InternalError(`task ${task.id}: operator ${i} is missing from the graph`);
  return node;
}

/** The operator of chain position `i`, emitting to `next`. */
function operatorOf(
  graph: JobGraph,
  task: TaskPlan,
  i: number,
  next: Operator,
  services: TaskServices,
  site: ChainSite,
): Operator {
  const plan = task.operators[i] as OperatorPlan;
  const node = nodeOf(graph, task, i);
  const op = node.op;
  switch (op.kind) {
    case "source":
      return new SourceOperator(plan.uid, next);
    case "map":
      return new MapOperator(plan.uid, next, op.fn);
    case "filter":
      return new FilterOperator(plan.uid, next, op.fn);
    case "flatMap":
      return new FlatMapOperator(plan.uid, next, op.fn);
    case "async":
      return new AsyncWaitOperator(plan.uid, next, op, site.partition);
    case "streamProcess":
      return new StreamProcessOperator(plan.uid, next, op.fn, services);
    case "sink":
      return new SinkOperator(plan.uid, next, services, op.sink);
    case "twoPhaseSink":
      return new TwoPhaseCommitSinkOperator(plan.uid, next, op.sink, services, { job: graph.name, ...site });
    case "broadcastProcess":
      return new BroadcastProcessOperator(plan.uid, next, op, sidesOf(node.inputs), services, graph.config.stateCodec);
    case "process":
    case "coProcess":
    case "keyedBroadcastProcess": {
      const selectors = node.inputs.map((e) => {
        if (op.kind === "keyedBroadcastProcess" && e.side === 1) return undefined; // the broadcast input
        if (e.partition?.kind !== "hash") {
          throw new InternalError(`keyed operator ${plan.uid} has an input that is not keyed`);
        }
        return e.partition.key as KeySelector<unknown, Key>;
      });
      const sides = sidesOf(node.inputs);
      return new KeyedProcessOperator(plan.uid, next, op, selectors, sides, services, graph.config.stateCodec);
    }
    case "timestamps":
      return new TimestampsOperator(plan.uid, next, op.strategy, services);
  }
}

/** The input side (0 or 1) of each input edge of a node. */
function sidesOf(inputs: readonly InputEdge[]): (0 | 1)[] {
  return inputs.map((e) => e.side ?? 0);
}

/** The user function object of `op` that may have `open`/`close`, if any. */
function richOf(op: NodeOp): RichFunction | undefined {
  switch (op.kind) {
    case "map":
    case "filter":
    case "flatMap":
      return op.rich;
    default:
      return userFunctionOf(op);
  }
}
