/**
 * How a job is deployed on AWS: the Lambda and SQS settings of its task functions,
 * and the throttling of its HTTP API.
 * Plain data (core imports nothing from AWS); the SST stacks (`stacks/`) read it from
 * the job's graph and `env.configureAws(…)` sets it.
 */

import { JobDefinitionError } from "../errors.ts";

/** Memory and timeout of one task function. */
export interface AwsFunctionSettings {
  /** Memory of the function, in MB (128–10,240). */
  readonly memoryMb: number;
  /** Timeout of one invocation, in seconds (1–900). The task queue's visibility timeout is 6× this. */
  readonly timeoutSeconds: number;
}

/** Throttling of the HTTP API's stage (API Gateway's default route settings: every route, together). */
export interface ApiThrottle {
  /** Steady-state requests per second (1–10,000). */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate (1–5,000). */
  readonly burstLimit: number;
}

/**
 * Elastic scaling from lag (`configureAws({ autoscale })`): the coordinator resizes
 * every non-source task whose edges allow it (none forward) within `[min, max]`, at a
 * checkpoint cut, so that its queue's backlog drains within `targetLagSeconds`.
 */
export interface AutoscaleConfig {
  /** Fewest partitions of a task (≥ 1). */
  readonly min: number;
  /** Most partitions of a task (≥ min, ≤ maxParallelism; checked when the job is planned). */
  readonly max: number;
  /** Seconds in which a task's backlog should drain at its processing rate (1–86,400). */
  readonly targetLagSeconds: number;
  /**
   * Seconds after a rescale (and between two decisions) before the next (1–86,400;
   * default 60): a task is scaled in only after it stayed underused this long.
   */
  readonly cooldownSeconds: number;
}

/** What `configureAws({ autoscale })` accepts: `min`, `max` and `targetLagSeconds`, and optionally the cooldown. */
export type AutoscaleOptions = Omit<AutoscaleConfig, "cooldownSeconds"> & { readonly cooldownSeconds?: number };

/** A Python remote function the stack deploys beside the job (`sdk/python` bundled with it). */
export interface PythonFunctionConfig {
  /** The module's file, from the working directory (e.g. `examples/remote/functions.py`). */
  readonly file: string;
  /** The module's Lambda handler (default `handler`, e.g. `handler = make_lambda_handler()`). */
  readonly handler?: string;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

/** The AWS deployment settings of a job. */
export interface AwsConfig extends AwsFunctionSettings {
  /**
   * Receives of one message before SQS moves it to the task's dead-letter queue
   * (1–1,000). Must exceed `maxRecordAttempts`, so that a failing record is
   * dead-lettered by riffle (and the job goes on) before SQS gives up on its envelope.
   */
  readonly maxReceiveCount: number;
  /** Age of the oldest message in a task queue, in seconds, above which its alarm fires. */
  readonly oldestMessageAlarmSeconds: number;
  /**
   * Seconds between the coordinator rounds that tick processing-time timers, for a job
   * with keyed tasks (0–3,600): a due timer fires within about this long. Each round
   * is one call of the round function in the Express rounds machine (at 1 s, about
   * $0.05 an hour on the emulators; docs/BENCHMARKS.md); 0 turns these rounds off, and
   * timers then fire with the checkpoint rounds.
   */
  readonly timerTickSeconds: number;
  /**
   * Memory of the coordinator's round function, in MB (128–10,240; default 256). A
   * round mostly waits on DynamoDB, and at a round a second its GB-s are most of its
   * Lambda bill, so it gets less than the task functions.
   */
  readonly coordinatorMemoryMb: number;
  /** Per-task overrides of memory and timeout, by task id (the uid of the task's head operator). */
  readonly tasks: Readonly<Record<string, Partial<AwsFunctionSettings>>>;
  /** Throttling of the HTTP API; requests over it get 429 from API Gateway. */
  readonly apiThrottle: ApiThrottle;
  /** Elastic scaling from lag; off when absent. */
  readonly autoscale?: AutoscaleConfig;
  /**
   * Python remote functions to deploy, by Lambda function name (the name the job's
   * remote functions give as their target): each a Python 3.12 function with the SDK.
   */
  readonly pythonFunctions?: Readonly<Record<string, PythonFunctionConfig>>;
}

/** What `env.configureAws` accepts: any subset of the settings (of `apiThrottle` too). */
export type AwsConfigOptions = Partial<Omit<AwsConfig, "apiThrottle" | "autoscale">> & {
  readonly apiThrottle?: Partial<ApiThrottle>;
  readonly autoscale?: AutoscaleOptions;
};

/** Seconds between the decisions of a task's autoscaling, by default. */
export const DEFAULT_AUTOSCALE_COOLDOWN_SECONDS = 60;

/** Checks `autoscale` (all but its bound by maxParallelism, which the planner checks). */
function checkAutoscale(o: AutoscaleOptions): AutoscaleConfig {
  if (typeof o !== "object" || o === null) {
    throw new JobDefinitionError("configureAws: autoscale must be { min, max, targetLagSeconds }");
  }
  for (const k of ["min", "max", "targetLagSeconds"] as const) {
    if (o[k] === undefined) throw new JobDefinitionError(`configureAws: autoscale.${k} is required`);
  }
  checkRange("autoscale.min", o.min, 1, 10_000);
  checkRange("autoscale.max", o.max, 1, 10_000);
  checkRange("autoscale.targetLagSeconds", o.targetLagSeconds, 1, 86_400);
  checkRange("autoscale.cooldownSeconds", o.cooldownSeconds, 1, 86_400);
  if (o.max < o.min) {
    throw new JobDefinitionError(`configureAws: autoscale.max (${o.max}) must be at least autoscale.min (${o.min})`);
  }
  const { min, max, targetLagSeconds } = o;
  return { min, max, targetLagSeconds, cooldownSeconds: o.cooldownSeconds ?? DEFAULT_AUTOSCALE_COOLDOWN_SECONDS };
}

/**
 * Defaults: 1,024 MB, 30 s (visibility 180 s), 10 receives, alarm after 10 minutes,
 * timer ticks every second, a 256 MB round function, and the HTTP API throttled to 100 requests/s with bursts
 * of 200 (one request may carry up to 10,000 records).
 */
export const DEFAULT_AWS_CONFIG: AwsConfig = {
  memoryMb: 1024,
  timeoutSeconds: 30,
  maxReceiveCount: 10,
  oldestMessageAlarmSeconds: 600,
  timerTickSeconds: 1,
  coordinatorMemoryMb: 256,
  tasks: {},
  apiThrottle: { rateLimit: 100, burstLimit: 200 },
};

function checkRange(what: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new JobDefinitionError(`configureAws: ${what} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkFunctionSettings(where: string, s: Partial<AwsFunctionSettings>): void {
  checkRange(`${where}memoryMb`, s.memoryMb, 128, 10_240);
  checkRange(`${where}timeoutSeconds`, s.timeoutSeconds, 1, 900);
}

function checkPythonFunction(name: string, f: PythonFunctionConfig): void {
  const where = `configureAws: pythonFunctions['${name}']`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new JobDefinitionError(`${where}: not a Lambda function name`);
  if (typeof f?.file !== "string" || !/^[\w./-]+\.py$/.test(f.file)) {
    throw new JobDefinitionError(`${where}.file must be a .py file, got ${JSON.stringify(f?.file)}`);
  }
  if (f.handler !== undefined && !/^[A-Za-z_]\w*$/.test(f.handler)) {
    throw new JobDefinitionError(`${where}.handler must be a Python name, got ${JSON.stringify(f.handler)}`);
  }
  checkFunctionSettings(`pythonFunctions['${name}'].`, f);
}

/** The entries of `o` that are set, without the keys in `skip`. */
function defined(o: object, skip: readonly string[] = []): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && !skip.includes(k)));
}

/**
 * `base` with `options` applied (task overrides merge by task id).
 * @throws JobDefinitionError naming the setting, its range and the value given.
 */
export function mergeAwsConfig(base: AwsConfig, options: AwsConfigOptions): AwsConfig {
  checkFunctionSettings("", options);
  checkRange("maxReceiveCount", options.maxReceiveCount, 1, 1000);
  checkRange("oldestMessageAlarmSeconds", options.oldestMessageAlarmSeconds, 60, 1_209_600);
  checkRange("apiThrottle.rateLimit", options.apiThrottle?.rateLimit, 1, 10_000);
  checkRange("apiThrottle.burstLimit", options.apiThrottle?.burstLimit, 1, 5_000);
  checkRange("timerTickSeconds", options.timerTickSeconds, 0, 3600);
  checkRange("coordinatorMemoryMb", options.coordinatorMemoryMb, 128, 10_240);
  for (const [name, f] of Object.entries(options.pythonFunctions ?? {})) checkPythonFunction(name, f);
  const tasks: Record<string, Partial<AwsFunctionSettings>> = { ...base.tasks };
  for (const [task, s] of Object.entries(options.tasks ?? {})) {
    checkFunctionSettings(`tasks['${task}'].`, s);
    tasks[task] = { ...tasks[task], ...s };
  }
  const apiThrottle = { ...base.apiThrottle, ...defined(options.apiThrottle ?? {}) };
  const rest = defined(options, ["tasks", "apiThrottle", "autoscale"]);
  const autoscale = options.autoscale === undefined ? base.autoscale : checkAutoscale(options.autoscale);
  return { ...base, ...rest, tasks, apiThrottle, ...(autoscale ? { autoscale } : {}) };
}
