/**
 * The logical job graph: what the DataStream API builds and the planner reads.
 * Nodes hold the user's functions; edges say how records are partitioned.
 */

import type { AwsConfig } from "../api/aws-config.ts";
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction, MapStateDescriptor } from "../api/broadcast.ts";
import type {
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  ProcessFunction,
  RichFunction,
} from "../api/functions.ts";
import type { Source } from "../api/source.ts";
import type { StateCodec, StateSpec } from "../api/state.ts";
import type { TwoPhaseCommitSink } from "../api/two-phase-sink.ts";
import type { WatermarkStrategy } from "../api/watermarks.ts";
import type { CheckpointConfig, RecordFailureStrategy, RestartStrategy } from "../checkpoint/config.ts";
import type { Key } from "../keys.ts";
import type { AsyncBatch } from "../operators/async-wait.ts";
import type { TableSpec } from "../ports/table-store.ts";

/** How records travel along an edge. */
export type PartitionSpec =
  /** Same partition index downstream; requires equal parallelism. */
  | { readonly kind: "forward" }
  /** By key group of the key the selector returns. */
  | { readonly kind: "hash"; readonly key: KeySelector<unknown, Key> }
  /** Round-robin over downstream partitions. */
  | { readonly kind: "rebalance" }
  /** Every record to every downstream partition. */
  | { readonly kind: "broadcast" };

/** An edge into a node. */
export interface InputEdge {
  readonly node: number;
  /** Explicit partitioning; `undefined` means forward when parallelism matches, else rebalance. */
  readonly partition: PartitionSpec | undefined;
  /** Which input of a two-input operator the edge feeds (0 or 1; default 0). */
  readonly side?: 0 | 1;
  /** The side output (tag id) of the upstream operator the edge carries; `undefined`: its main output. */
  readonly output?: string;
}

/** The operation a node performs. */
export type NodeOp =
  | { readonly kind: "source"; readonly source: Source<unknown> }
  | { readonly kind: "map"; readonly fn: (value: unknown) => unknown; readonly rich?: RichFunction }
  | { readonly kind: "filter"; readonly fn: (value: unknown) => boolean; readonly rich?: RichFunction }
  | { readonly kind: "flatMap"; readonly fn: (value: unknown) => Iterable<unknown>; readonly rich?: RichFunction }
  | { readonly kind: "streamProcess"; readonly fn: ProcessFunction<unknown, unknown> }
  | {
      readonly kind: "async";
      readonly fn: (value: unknown) => Promise<unknown>;
      readonly ordered: boolean;
      readonly timeoutMs: number;
      readonly capacity: number;
      /** Batch mode (a stateless remote function): answers a slice's records at once, in place of `fn`. */
      readonly batch?: AsyncBatch;
    }
  | {
      readonly kind: "process";
      readonly fn: KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
      /** The operator needs event times and watermarks from upstream (an event-time window). */
      readonly eventTime?: true;
    }
  | {
      readonly kind: "coProcess";
      readonly fn: KeyedCoProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
      /** The operator needs event times and watermarks from upstream (an event-time join). */
      readonly eventTime?: true;
    }
  /** A non-keyed stream (side 0) connected with a broadcast stream (side 1). */
  | {
      readonly kind: "broadcastProcess";
      readonly fn: BroadcastProcessFunction<unknown, unknown, unknown>;
      /** The broadcast state the function may use. */
      readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
    }
  /** A keyed stream (side 0, hash edges) connected with a broadcast stream (side 1, broadcast edges). */
  | {
      readonly kind: "keyedBroadcastProcess";
      readonly fn: KeyedBroadcastProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
      /** The broadcast state the function may use. */
      readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
    }
  | { readonly kind: "timestamps"; readonly strategy: WatermarkStrategy<unknown> }
  | {
      readonly kind: "sink";
      readonly sink: string;
      readonly print: boolean;
      /** Set when the sink's committed changelog is a dynamic table (`core/tables/`). */
      readonly table?: TableSpec;
    }
  | { readonly kind: "twoPhaseSink"; readonly sink: TwoPhaseCommitSink<unknown, unknown> };

/** One operator of the logical graph. */
export interface GraphNode {
  readonly id: number;
  readonly op: NodeOp;
  /** Human-readable name, e.g. `map` or `sum(clicks)`. */
  name: string;
  /** Stable id for state; defaults to `<name>-<id>`. */
  uid: string | undefined;
  /** Explicit parallelism; `undefined` inherits the job default. */
  parallelism: number | undefined;
  readonly inputs: readonly InputEdge[];
}

/** Job-wide settings. */
export interface JobConfig {
  /** Default operator parallelism. */
  parallelism: number;
  /** True when the parallelism was fixed from outside (the CLI), so the job cannot change it. */
  parallelismFixed?: boolean;
  /** Number of key groups (fixed for the life of a job). */
  maxParallelism: number;
  /** Records a source reads per poll. */
  sourceBatchSize: number;
  /** Most records packed into one envelope. */
  maxRecordsPerEnvelope: number;
  /**
   * Ingest wake-up window, ms (absent: every append wakes its source partition). Appends
   * that follow the previous one within the window wake the partition once per window,
   * so records wait up to about a window and batch (`core/control/wake-window.ts`).
   */
  ingestWindowMs?: number;
  /** Attempts at a failing record before it is dead-lettered (or the job restarts). */
  maxRecordAttempts: number;
  /** When and how checkpoints are taken. */
  checkpoint: CheckpointConfig;
  /** How the job recovers when a task keeps failing. */
  restart: RestartStrategy;
  /** What a record that keeps failing does. */
  recordFailure: RecordFailureStrategy;
  /** How keyed state values are stored unless a state descriptor says otherwise (default `json`). */
  stateCodec?: StateCodec;
  /** How the job is deployed on AWS (Lambda and SQS settings; `env.configureAws`). */
  aws: AwsConfig;
}

/** The built logical graph of a job. */
export interface JobGraph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly config: Readonly<JobConfig>;
}

/** Whether `op` runs keyed (keyed state, timers; its main inputs are hash edges). */
export function isKeyedOp(op: NodeOp): boolean {
  return op.kind === "process" || op.kind === "coProcess" || op.kind === "keyedBroadcastProcess";
}

/** The user's function object of a process-like `op` (the one with `open`/`close`, `notifyCheckpointComplete`). */
export function userFunctionOf(op: NodeOp): RichFunction | undefined {
  switch (op.kind) {
    case "process":
    case "coProcess":
    case "streamProcess":
    case "broadcastProcess":
    case "keyedBroadcastProcess":
      return op.fn;
    default:
      return undefined;
  }
}
