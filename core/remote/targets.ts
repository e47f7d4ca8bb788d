/**
 * Which remote functions a task invokes, for the deploy: the stack grants each task
 * function `lambda:InvokeFunction` on exactly the Lambda functions its operators name.
 */

import type { JobGraph, NodeOp } from "../graph/graph.ts";
import type { TaskPlan } from "../graph/plan.ts";
import { isLambdaTarget } from "./invoker.ts";

/** What a remote function's operator carries: its target (a Lambda name or ARN, or a URL). */
export interface RemoteTargeted {
  readonly remoteTarget: string;
}

function targetOf(op: NodeOp): string | undefined {
  const carrier = op.kind === "process" ? op.fn : op.kind === "async" ? op.batch : undefined;
  const t = (carrier as Partial<RemoteTargeted> | undefined)?.remoteTarget;
  return typeof t === "string" ? t : undefined;
}

/**
 * True when an operator of `task` awaits work done elsewhere for each slice (an
 * async I/O operator, a remote function): the embedded scheduler runs the task's
 * batch beside the other tasks' (see core/runtime/scheduler.ts).
 */
export function callsOut(graph: JobGraph, task: TaskPlan): boolean {
  return task.operators.some((o) => {
    const op = graph.nodes[o.node]?.op;
    return op !== undefined && (op.kind === "async" || targetOf(op) !== undefined);
  });
}

/** The Lambda functions (names or ARNs, sorted, once each) the operators of `task` invoke. */
export function lambdaTargetsOf(graph: JobGraph, task: TaskPlan): string[] {
  const out = new Set<string>();
  for (const o of task.operators) {
    const node = graph.nodes[o.node];
    const t = node ? targetOf(node.op) : undefined;
    if (t !== undefined && isLambdaTarget(t)) out.add(t);
  }
  return [...out].sort();
}
