/**
 * Builds the operator chain of one task partition from the plan and the job graph.
 */

import type { KeySelector, RichFunction, RuntimeContext } from "../api/functions.ts";
import type { Source } from "../api/source.ts";
import { originalChannel } from "../envelope.ts";
import { InternalError } from "../errors.ts";
import { type InputEdge, type JobGraph, type NodeOp, userFunctionOf } from "../graph/graph.ts";
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
import type { Router } from "./router.ts";

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

/** Terminal operator: hands records and signals to the router. */
class RouterOperator implements Operator {
  private readonly router: Router;
  constructor(router: Router) {
    this.router = router;
  }
  processRecord(value: unknown, time: number | undefined): void {
    this.router.collect(value, time);
  }
  processWatermark(watermark: number): void {
    this.router.broadcastSignal({ kind: "watermark", t: watermark });
  }
  processTime(): void {}
  endInput(): void {
    this.router.broadcastSignal({ kind: "end" });
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
  let next: Operator = new RouterOperator(router);
  let keyed: KeyedProcessOperator | undefined;
  let async: AsyncWaitOperator | undefined;
  let source: Source<unknown> | undefined;
  /** Rich functions with their runtime contexts, tail first. */
  const rich: [RichFunction, RuntimeContext][] = [];
  for (let i = task.operators.length - 1; i >= 0; i--) {
    const plan = task.operators[i];
    const node = plan ? graph.nodes[plan.node] : undefined;
    if (!plan || !node) throw new InternalError(`task ${task.id}: operator ${i} is missing from the graph`);
    const op = node.op;
    const fn = richOf(op);
    if (fn) {
      const { partition, generation } = site;
      rich.push([fn, { job: graph.name, operator: plan.uid, partition, parallelism: task.parallelism, generation }]);
    }
    // Inside the chain, the edge from the operator before this one selects its main output or a side output.
    const up = i > 0 ? graph.nodes[(task.operators[i - 1] as OperatorPlan).node] : undefined;
    const wrapped = (o: Operator) =>
      up && emitsSideOutputs(up.op.kind) ? new OutputSelector(plan.uid, o, node.inputs[0]?.output) : o;
    switch (op.kind) {
      case "source":
        source = op.source;
        next = new SourceOperator(plan.uid, next);
        break;
      case "map":
        next = new MapOperator(plan.uid, next, op.fn);
        break;
      case "filter":
        next = new FilterOperator(plan.uid, next, op.fn);
        break;
      case "flatMap":
        next = new FlatMapOperator(plan.uid, next, op.fn);
        break;
      case "async":
        async = new AsyncWaitOperator(plan.uid, next, op, site.partition);
        next = async;
        break;
      case "streamProcess":
        next = new StreamProcessOperator(plan.uid, next, op.fn, services);
        break;
      case "sink":
        next = new SinkOperator(plan.uid, next, services, op.sink);
        break;
      case "twoPhaseSink":
        next = new TwoPhaseCommitSinkOperator(plan.uid, next, op.sink, services, { job: graph.name, ...site });
        break;
      case "broadcastProcess":
        next = new BroadcastProcessOperator(
          plan.uid,
          next,
          op,
          sidesOf(node.inputs),
          services,
          graph.config.stateCodec,
        );
        break;
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
        keyed = new KeyedProcessOperator(plan.uid, next, op, selectors, sides, services, graph.config.stateCodec);
        next = keyed;
        break;
      }
      case "timestamps":
        next = new TimestampsOperator(plan.uid, next, op.strategy, services);
        break;
    }
    next = wrapped(next);
  }
  const inputIndex = new Map(task.inputs.map((input, i) => [input.from, i]));
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
  return { head: next, keyed, async, source, inputOf, open, close };
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
