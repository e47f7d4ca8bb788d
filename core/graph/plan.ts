/**
 * The physical plan: operators chained into tasks, tasks connected by partitioned
 * edges. The same plan drives the embedded runtime and the AWS stacks (one Lambda
 * and one FIFO queue per task).
 */

/** Partitioner kinds between tasks. */
export type PartitionerKind = "forward" | "hash" | "rebalance" | "broadcast";

/** One operator inside a task's chain. */
export interface OperatorPlan {
  /** Node id in the logical graph. */
  readonly node: number;
  /** Stable id; state is stored under it. */
  readonly uid: string;
  /** Display name. */
  readonly name: string;
  /** Operator kind (`source`, `map`, `filter`, `flatMap`, `process`, `sink`). */
  readonly kind: string;
  /**
   * Index in the task's `operators` of the chained operator that feeds this one;
   * undefined for the head. A chain is a tree: an operator with several chained
   * consumers (a fork) passes each record to each of them, in plan order.
   */
  readonly input?: number;
}

/** An input edge of a task. */
export interface TaskInput {
  /** Upstream task id. */
  readonly from: string;
  /** Name of the upstream's sending side of this edge ({@link TaskOutput.sender}); channels are `sender#partition`. */
  readonly sender: string;
  readonly partitioner: PartitionerKind;
}

/** An output edge of a task, from one operator of its chain (the tail, unless the chain forks). */
export interface TaskOutput {
  /** Downstream task id. */
  readonly to: string;
  readonly partitioner: PartitionerKind;
  /** Logical graph node that receives the edge (to find the key selector). */
  readonly toNode: number;
  /** Logical graph node of the operator in this task's chain that emits the edge. */
  readonly fromNode: number;
  /**
   * Name of the sending side: the task id when all of the task's outputs leave from
   * one operator, else `taskId/operatorUid`, so that two branches of a fork that feed
   * the same downstream task arrive on different channels (`sender#partition`).
   */
  readonly sender: string;
}

/** A chain of operators that runs as one unit: one queue, P partitions. */
export interface TaskPlan {
  /** Task id: the uid of the chain's head operator. */
  readonly id: string;
  readonly parallelism: number;
  /** The chain, head first, every operator after the one that feeds it. */
  readonly operators: readonly OperatorPlan[];
  readonly inputs: readonly TaskInput[];
  readonly outputs: readonly TaskOutput[];
  /** True when the head is a source. */
  readonly isSource: boolean;
  /** True when the head keeps keyed state (its input is hash-partitioned). */
  readonly keyed: boolean;
}

/** The physical plan of a job. Tasks are in topological order (every task after its inputs). */
export interface Plan {
  readonly job: string;
  readonly maxParallelism: number;
  readonly tasks: readonly TaskPlan[];
}

/** An input channel of one task partition. */
export interface InputChannel {
  /** Channel id (`task#partition`). */
  readonly id: string;
  /** Upstream task. */
  readonly from: string;
}
