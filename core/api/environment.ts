/**
 * The execution environment a job's build function receives, and `defineJob`.
 */

import {
  type CheckpointConfig,
  DEFAULT_CHECKPOINT_CONFIG,
  DEFAULT_RESTART_STRATEGY,
  type RecordFailureStrategy,
  type RestartStrategy,
} from "../checkpoint/config.ts";
import { JobDefinitionError } from "../errors.ts";
import type { JobConfig, JobGraph } from "../graph/graph.ts";
import { DEFAULT_MAX_PARALLELISM } from "../keys.ts";
import { checkName } from "../names.ts";
import { type AwsConfigOptions, DEFAULT_AWS_CONFIG, mergeAwsConfig } from "./aws-config.ts";
import "./connected-streams.ts";
import { DataStream } from "./datastream.ts";
import { GraphBuilder } from "./graph-builder.ts";
import { type IngestOptions, ingestSource } from "./ingest.ts";
import type { GeneratorOptions, Source } from "./source.ts";
import { elementsSource, generatorSource } from "./source.ts";
import type { StateCodec } from "./state.ts";
import "./windowed-stream.ts";

/** Default job settings; each can be overridden in the build function or by the CLI. */
export const DEFAULT_CONFIG: Readonly<JobConfig> = {
  parallelism: 1,
  maxParallelism: DEFAULT_MAX_PARALLELISM,
  sourceBatchSize: 1000,
  maxRecordsPerEnvelope: 500,
  maxRecordAttempts: 3,
  checkpoint: DEFAULT_CHECKPOINT_CONFIG,
  restart: DEFAULT_RESTART_STRATEGY,
  recordFailure: "restart",
  aws: DEFAULT_AWS_CONFIG,
};

/** What a job's build function receives: sources and job-wide settings. */
export class StreamExecutionEnvironment {
  /** @internal */
  readonly builder = new GraphBuilder();
  /** @internal */
  readonly config: JobConfig;

  /** @internal */
  constructor(config: JobConfig) {
    this.config = config;
  }

  /** The default parallelism of operators that do not set their own. */
  get parallelism(): number {
    return this.config.parallelism;
  }

  /** Sets the default parallelism. A `--parallelism` flag given to the CLI wins over this. */
  setParallelism(parallelism: number): this {
    if (!this.config.parallelismFixed) this.config.parallelism = checkPositive("setParallelism", parallelism);
    return this;
  }

  /** Sets the number of key groups (upper bound of any keyed operator's parallelism). */
  setMaxParallelism(maxParallelism: number): this {
    this.config.maxParallelism = checkPositive("setMaxParallelism", maxParallelism);
    return this;
  }

  /**
   * Tunes the runtime: records a source reads per poll (`sourceBatchSize`), records per
   * envelope (`maxRecordsPerEnvelope`), attempts at a failing record before it is
   * dead-lettered (`maxRecordAttempts`), and the ingest wake-up window in ms
   * (`ingestWindowMs`: appends faster than one per window wake their source once per
   * window, trading up to about a window of latency for fewer, larger batches).
   */
  configure(
    options: Partial<
      Pick<JobConfig, "sourceBatchSize" | "maxRecordsPerEnvelope" | "maxRecordAttempts" | "ingestWindowMs">
    >,
  ): this {
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) this.config[k as "sourceBatchSize"] = checkPositive(`configure.${k}`, v);
    }
    return this;
  }

  /**
   * Sets the checkpoint interval and policy. Checkpoints are always on: sink output
   * becomes visible when the checkpoint of its epoch completes (default every 1 s).
   */
  enableCheckpointing(intervalMs: number, options: Partial<Omit<CheckpointConfig, "intervalMs">> = {}): this {
    const c = { ...this.config.checkpoint, ...options, intervalMs };
    if (!(c.intervalMs > 0)) throw new JobDefinitionError(`checkpoint interval must be positive, got ${intervalMs}`);
    checkPositive("checkpoint maxConcurrent", c.maxConcurrent);
    if (!(c.timeoutMs > 0)) throw new JobDefinitionError(`checkpoint timeoutMs must be positive, got ${c.timeoutMs}`);
    if (!(c.minPauseMs >= 0)) throw new JobDefinitionError(`checkpoint minPauseMs must be ≥ 0, got ${c.minPauseMs}`);
    if (!Number.isSafeInteger(c.tolerableFailures) || c.tolerableFailures < 0) {
      throw new JobDefinitionError(`tolerableFailures must be a non-negative integer, got ${c.tolerableFailures}`);
    }
    this.config.checkpoint = c;
    return this;
  }

  /** Fixed-delay restart: restore from the last checkpoint up to `attempts` times, `delayMs` apart. */
  setRestartStrategy(strategy: RestartStrategy): this {
    if (!Number.isSafeInteger(strategy.attempts) || strategy.attempts < 0) {
      throw new JobDefinitionError(`restart attempts must be a non-negative integer, got ${strategy.attempts}`);
    }
    if (!(strategy.delayMs >= 0)) throw new JobDefinitionError(`restart delayMs must be ≥ 0, got ${strategy.delayMs}`);
    this.config.restart = { ...strategy };
    return this;
  }

  /**
   * What a record whose operator keeps throwing does after `maxRecordAttempts`:
   * `restart` (default, as in Flink) fails the job over to its last checkpoint, per
   * the restart strategy, and fails the job once its attempts are used up;
   * `dead-letter` sets the record aside with its error and goes on.
   */
  setRecordFailureStrategy(strategy: RecordFailureStrategy): this {
    if (strategy !== "dead-letter" && strategy !== "restart") {
      throw new JobDefinitionError(`record failure strategy must be 'dead-letter' or 'restart', got '${strategy}'`);
    }
    this.config.recordFailure = strategy;
    return this;
  }

  /**
   * How keyed state values are stored, for every state whose descriptor does not
   * choose: `json` (default) or `rich` (JSON plus Date, Map, Set and bigint); see
   * {@link StateCodec}.
   */
  setStateCodec(codec: StateCodec): this {
    if (codec !== "json" && codec !== "rich") {
      throw new JobDefinitionError(`state codec must be 'json' or 'rich', got '${codec}'`);
    }
    this.config.stateCodec = codec;
    return this;
  }

  /**
   * Sets how the job is deployed on AWS: memory and timeout of its task functions
   * (job-wide, or per task id in `tasks`), the receives before SQS dead-letters a
   * message (`maxReceiveCount`), and the queue-age alarm threshold. Other runtimes
   * ignore it.
   */
  configureAws(options: AwsConfigOptions): this {
    this.config.aws = mergeAwsConfig(this.config.aws, options);
    return this;
  }

  /** A bounded stream of the given elements (parallelism 1). */
  fromElements<T>(elements: readonly T[]): DataStream<T> {
    if (!Array.isArray(elements)) throw new JobDefinitionError("fromElements expects an array");
    return this.fromSource(elementsSource(elements));
  }

  /**
   * A stream of `fn(0), fn(1), …`: bounded when `count` is given, unbounded
   * otherwise. Runs at the default parallelism; the records do not depend on it.
   */
  fromGenerator<T>(fn: (index: number) => T, options?: GeneratorOptions): DataStream<T> {
    return this.fromSource(generatorSource(fn, options));
  }

  /**
   * An unbounded stream fed over HTTP: `POST /jobs/{job}/sources/{name}/events`
   * appends records to a durable log that this source reads. Records are checked
   * against `options.schema` (any Standard Schema validator, e.g. zod) before they
   * are accepted. Runs on `riffle dev` and on AWS.
   */
  fromIngest<T>(name: string, options?: IngestOptions<T>): DataStream<T> {
    return this.fromSource(ingestSource(name, options));
  }

  /** A stream read from any {@link Source}. */
  fromSource<T>(source: Source<T>): DataStream<T> {
    const id = this.builder.add({ kind: "source", source: source as Source<unknown> }, source.name, []);
    if (source.fixedParallelism !== undefined) this.builder.node(id).parallelism = source.fixedParallelism;
    return new DataStream<T>(this.builder, [{ node: id, partition: undefined }]);
  }
}

function checkPositive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new JobDefinitionError(`${what}: expected a positive integer, got ${n}`);
  return n;
}

/** A riffle job: a name and a function that builds its dataflow. */
export interface Job {
  /** The job's name; state, output and dead letters are stored under it. */
  readonly name: string;
  /** Builds the dataflow on `env`. */
  readonly build: (env: StreamExecutionEnvironment) => void;
  /** @internal Brand that identifies a job module's default export. */
  readonly [JOB_BRAND]: true;
}

const JOB_BRAND: unique symbol = Symbol.for("riffle.job");

/**
 * Defines a job. A job module's default export is its job.
 *
 * @example
 * ```ts
 * import { defineJob } from "riffle";
 * export default defineJob("word-count", (env) => {
 *   env.fromElements(["a b", "b c"])
 *     .flatMap((line) => line.split(" "))
 *     .keyBy((w) => w)
 *     .process({ state: { n: valueState<number>() }, processElement(w, ctx) {
 *       const n = (ctx.state.n.value() ?? 0) + 1; ctx.state.n.update(n); ctx.emit({ w, n });
 *     } })
 *     .sinkTo("counts");
 * });
 * ```
 */
export function defineJob(name: string, build: (env: StreamExecutionEnvironment) => void): Job {
  checkName("job name", name);
  if (typeof build !== "function") throw new JobDefinitionError("defineJob: the second argument must be a function");
  return { name, build, [JOB_BRAND]: true };
}

/** True when `value` was made by {@link defineJob}. */
export function isJob(value: unknown): value is Job {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[JOB_BRAND] === true;
}

/** Options for building a job's graph. */
export interface BuildOptions {
  /** Overrides the default parallelism (the CLI's `--parallelism`). */
  readonly parallelism?: number;
}

/** Runs a job's build function and returns its logical graph. */
export function buildGraph(job: Job, options: BuildOptions = {}): JobGraph {
  const config: JobConfig = { ...DEFAULT_CONFIG };
  if (options.parallelism !== undefined) {
    config.parallelism = checkPositive("parallelism", options.parallelism);
    config.parallelismFixed = true;
  }
  const env = new StreamExecutionEnvironment(config);
  try {
    job.build(env);
  } catch (cause) {
    if (cause instanceof JobDefinitionError) throw cause;
    throw new JobDefinitionError(`job '${job.name}' failed while building its dataflow: ${String(cause)}`, { cause });
  }
  if (env.builder.nodes.length === 0) throw new JobDefinitionError(`job '${job.name}' defines no operators`);
  return { name: job.name, nodes: env.builder.nodes, config };
}
