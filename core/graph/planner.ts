/**
 * The planner: resolves partitioners, chains forward-connected operators of equal
 * parallelism into tasks, and validates the result.
 */

import { CONTROL_CHANNEL, channelId, POLL_CHANNEL } from "../envelope.ts";
import { JobDefinitionError } from "../errors.ts";
import { checkEventTime } from "./checks.ts";
import { type GraphNode, type InputEdge, isKeyedOp, type JobGraph } from "./graph.ts";
import type { InputChannel, OperatorPlan, PartitionerKind, Plan, TaskInput, TaskOutput, TaskPlan } from "./plan.ts";
import { checkAutoscalePlan } from "./rescale.ts";

/** Plans a job graph into tasks. */
export function planJob(graph: JobGraph): Plan {
  const { nodes, config } = graph;
  // A sink without its own parallelism takes its input's, so it chains instead of shuffling.
  const parallelism = (n: GraphNode): number => {
    if (n.parallelism !== undefined) return n.parallelism;
    const only = n.inputs.length === 1 ? n.inputs[0] : undefined;
    const up = only ? nodes[only.node] : undefined;
    if ((n.op.kind === "sink" || n.op.kind === "twoPhaseSink") && up) return parallelism(up);
    return config.parallelism;
  };
  const uidOf = (n: GraphNode) => n.uid ?? defaultUid(n);
  const seen = new Map<string, number>();
  for (const n of nodes) {
    const uid = uidOf(n);
    const other = seen.get(uid);
    if (other !== undefined)
      throw new JobDefinitionError(`two operators share the uid '${uid}' (nodes ${other} and ${n.id})`);
    seen.set(uid, n.id);
  }

  checkEventTime(graph, uidOf);

  const resolve = (from: GraphNode, to: GraphNode, kind: PartitionerKind | undefined): PartitionerKind => {
    const same = parallelism(from) === parallelism(to);
    if (kind === "forward" && !same) {
      throw new JobDefinitionError(
        `forward edge from '${uidOf(from)}' (parallelism ${parallelism(from)}) to '${uidOf(to)}' (parallelism ${parallelism(to)}) needs equal parallelism`,
      );
    }
    return kind ?? (same ? "forward" : "rebalance");
  };

  const ctx: Planning = { nodes, parallelism, uidOf, resolve };
  const taskOf = chainNodes(graph, ctx);
  const plan = { job: graph.name, maxParallelism: config.maxParallelism, tasks: taskPlans(ctx, taskOf) };
  checkAutoscalePlan(plan, config.aws.autoscale);
  return plan;
}

/** What chaining and task building read of a graph being planned. */
interface Planning {
  readonly nodes: readonly GraphNode[];
  readonly parallelism: (n: GraphNode) => number;
  readonly uidOf: (n: GraphNode) => string;
  /** The partitioner of the edge `from → to` (checks that a forward edge has equal parallelism). */
  readonly resolve: (from: GraphNode, to: GraphNode, kind: PartitionerKind | undefined) => PartitionerKind;
}

/**
 * The chain of every node (node id → its chain, head first, in node order). A node joins
 * its single input's chain when that edge is forward, whatever else the input feeds
 * (Flink's chained multiple outputs): a chain is a tree.
 */
function chainNodes(graph: JobGraph, ctx: Planning): Map<number, number[]> {
  const { nodes, resolve } = ctx;
  const taskOf = new Map<number, number[]>();
  for (const n of nodes) {
    checkNode(n, graph, ctx.uidOf, ctx.parallelism(n));
    const only = n.inputs.length === 1 ? n.inputs[0] : undefined;
    const up = only ? nodes[only.node] : undefined;
    // An async I/O operator heads its own task: its calls are awaited per batch, before the chain runs.
    const chainable = n.op.kind !== "async";
    const chain = chainable && only && up && resolve(up, n, only.partition?.kind) === "forward" && taskOf.get(up.id);
    if (chain) chain.push(n.id);
    taskOf.set(n.id, chain || [n.id]);
  }
  return taskOf;
}

/** The tasks of the chains in `taskOf`, with their edges. */
function taskPlans(ctx: Planning, taskOf: ReadonlyMap<number, number[]>): TaskPlan[] {
  const { nodes, uidOf, resolve } = ctx;
  const chains = [...new Set(taskOf.values())];
  const taskId = (chain: number[]) => uidOf(nodes[chain[0] as number] as GraphNode);
  // The edges that leave each chain, and the name each of its emitting operators sends under.
  const outEdges = new Map<number[], { from: GraphNode; to: GraphNode; edge: InputEdge }[]>();
  for (const n of nodes) {
    const chain = taskOf.get(n.id) as number[];
    for (const e of n.inputs) {
      const fromChain = taskOf.get(e.node) as number[];
      if (fromChain === chain && chain[0] !== n.id) continue; // chained
      const list = outEdges.get(fromChain) ?? [];
      list.push({ from: nodes[e.node] as GraphNode, to: n, edge: e });
      outEdges.set(fromChain, list);
    }
  }
  const senderOf = (node: GraphNode): string => {
    const chain = taskOf.get(node.id) as number[];
    const emitters = new Set((outEdges.get(chain) ?? []).map((o) => o.from.id));
    return emitters.size <= 1 ? taskId(chain) : `${taskId(chain)}/${uidOf(node)}`;
  };
  return chains.map((chain) => {
    const head = nodes[chain[0] as number] as GraphNode;
    const inputs: TaskInput[] = head.inputs.map((e) => {
      const from = nodes[e.node] as GraphNode;
      const partitioner = resolve(from, head, e.partition?.kind);
      return { from: taskId(taskOf.get(from.id) as number[]), sender: senderOf(from), partitioner };
    });
    const senders = new Set<string>();
    for (const i of inputs) {
      if (senders.has(i.sender))
        throw new JobDefinitionError(`'${uidOf(head)}' reads '${i.sender}' twice (a stream unioned with itself)`);
      senders.add(i.sender);
    }
    const outputs: TaskOutput[] = (outEdges.get(chain) ?? []).map(({ from, to, edge }) => ({
      to: taskId(taskOf.get(to.id) as number[]),
      partitioner: resolve(from, to, edge.partition?.kind),
      toNode: to.id,
      fromNode: from.id,
      sender: senderOf(from),
    }));
    const operators: OperatorPlan[] = chain.map((id, i) => {
      const n = nodes[id] as GraphNode;
      const input = i === 0 ? undefined : chain.indexOf((n.inputs[0] as InputEdge).node);
      return { node: id, uid: uidOf(n), name: n.name, kind: n.op.kind, ...(input === undefined ? {} : { input }) };
    });
    return {
      id: taskId(chain),
      parallelism: ctx.parallelism(head),
      operators,
      inputs,
      outputs,
      isSource: head.op.kind === "source",
      keyed: isKeyedOp(head.op),
    };
  });
}

/** The rules of one node that do not depend on chaining: inputs, keyed inputs, parallelism. */
function checkNode(n: GraphNode, graph: JobGraph, uidOf: (n: GraphNode) => string, p: number): void {
  if (n.op.kind === "source" && n.inputs.length > 0) throw new JobDefinitionError("a source cannot have inputs");
  if (n.op.kind !== "source" && n.inputs.length === 0)
    throw new JobDefinitionError(`operator '${uidOf(n)}' has no input`);
  const keyed = isKeyedOp(n.op);
  // A keyed broadcast operator's side 1 is its broadcast input (see `core/api/broadcast.ts`).
  const keyedInput = (e: InputEdge) =>
    n.op.kind === "keyedBroadcastProcess" && e.side === 1
      ? e.partition?.kind === "broadcast"
      : e.partition?.kind === "hash";
  if (keyed && !n.inputs.every(keyedInput)) {
    throw new JobDefinitionError(`keyed operator '${uidOf(n)}' must follow keyBy()`);
  }
  if (keyed && p > graph.config.maxParallelism) {
    throw new JobDefinitionError(
      `'${uidOf(n)}' has parallelism ${p}, above maxParallelism ${graph.config.maxParallelism}`,
    );
  }
}

function defaultUid(n: GraphNode): string {
  const base = n.op.kind === "sink" ? `sink-${n.op.sink}` : n.op.kind === "source" ? n.op.source.name : n.name;
  return `${base.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/-+$/, "")}-${n.id}`;
}

/** Looks up a task of a plan by id. */
export function taskById(plan: Plan, id: string): TaskPlan {
  const t = plan.tasks.find((x) => x.id === id);
  if (!t) throw new JobDefinitionError(`job '${plan.job}' has no task '${id}'`);
  return t;
}

/** The input channels of `task[partition]`, in a stable order. */
export function inputChannels(plan: Plan, task: TaskPlan, partition: number): InputChannel[] {
  if (task.isSource)
    return [
      { id: POLL_CHANNEL, from: task.id },
      { id: CONTROL_CHANNEL, from: "$coordinator" },
    ];
  const out: InputChannel[] = [];
  for (const input of task.inputs) {
    const up = taskById(plan, input.from);
    if (input.partitioner === "forward") out.push({ id: channelId(input.sender, partition), from: up.id });
    else for (let p = 0; p < up.parallelism; p++) out.push({ id: channelId(input.sender, p), from: up.id });
  }
  return out;
}
