/**
 * Builds the operator chain of one task partition from the plan and the job graph.
 */

import type { KeySelector } from "../api/functions.ts";
import type { Source } from "../api/source.ts";
import { originalChannel } from "../envelope.ts";
import { InternalError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { TaskPlan } from "../graph/plan.ts";
import type { Key } from "../keys.ts";
import { KeyedProcessOperator } from "../operators/keyed-process.ts";
import type { Operator, TaskServices } from "../operators/operator.ts";
import { FilterOperator, FlatMapOperator, MapOperator, SinkOperator, SourceOperator } from "../operators/stateless.ts";
import { TimestampsOperator } from "../operators/timestamps.ts";
import type { Router } from "./router.ts";

/** The built chain. */
export interface Chain {
  /** Entry point of records. */
  readonly head: Operator;
  /** The head, when it is a keyed process operator. */
  readonly keyed: KeyedProcessOperator | undefined;
  /** The source, when the task reads one. */
  readonly source: Source<unknown> | undefined;
  /** Input edge index of the channel `task#partition` (0 for the source's own channels). */
  readonly inputOf: (channel: string) => number;
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
export function buildChain(graph: JobGraph, task: TaskPlan, router: Router, services: TaskServices): Chain {
  let next: Operator = new RouterOperator(router);
  let keyed: KeyedProcessOperator | undefined;
  let source: Source<unknown> | undefined;
  for (let i = task.operators.length - 1; i >= 0; i--) {
    const plan = task.operators[i];
    const node = plan ? graph.nodes[plan.node] : undefined;
    if (!plan || !node) throw new InternalError(`task ${task.id}: operator ${i} is missing from the graph`);
    const op = node.op;
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
      case "sink":
        next = new SinkOperator(plan.uid, next, services, op.sink);
        break;
      case "process":
      case "coProcess": {
        const selectors = node.inputs.map((e) => {
          if (e.partition?.kind !== "hash") {
            throw new InternalError(`keyed operator ${plan.uid} has an input that is not keyed`);
          }
          return e.partition.key as KeySelector<unknown, Key>;
        });
        const sides = node.inputs.map((e) => e.side ?? 0);
        keyed = new KeyedProcessOperator(plan.uid, next, op, selectors, sides, services, graph.config.stateCodec);
        next = keyed;
        break;
      }
      case "timestamps":
        next = new TimestampsOperator(plan.uid, next, op.strategy, services);
        break;
    }
  }
  const inputIndex = new Map(task.inputs.map((input, i) => [input.from, i]));
  const inputOf = (channel: string) => {
    const c = originalChannel(channel);
    return inputIndex.get(c.slice(0, c.lastIndexOf("#"))) ?? 0;
  };
  return { head: next, keyed, source, inputOf };
}
