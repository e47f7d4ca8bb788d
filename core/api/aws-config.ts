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
   * costs a Lambda call and about 5 Step Functions transitions (at 1 s, about $0.45 an
   * hour); 0 turns these rounds off, and timers then fire with the checkpoint rounds.
   */
  readonly timerTickSeconds: number;
  /** Per-task overrides of memory and timeout, by task id (the uid of the task's head operator). */
  readonly tasks: Readonly<Record<string, Partial<AwsFunctionSettings>>>;
  /** Throttling of the HTTP API; requests over it get 429 from API Gateway. */
  readonly apiThrottle: ApiThrottle;
}

/** What `env.configureAws` accepts: any subset of the settings (of `apiThrottle` too). */
export type AwsConfigOptions = Partial<Omit<AwsConfig, "apiThrottle">> & {
  readonly apiThrottle?: Partial<ApiThrottle>;
};

/**
 * Defaults: 1,024 MB, 30 s (visibility 180 s), 10 receives, alarm after 10 minutes,
 * timer ticks every second, and the HTTP API throttled to 100 requests/s with bursts
 * of 200 (one request may carry up to 10,000 records).
 */
export const DEFAULT_AWS_CONFIG: AwsConfig = {
  memoryMb: 1024,
  timeoutSeconds: 30,
  maxReceiveCount: 10,
  oldestMessageAlarmSeconds: 600,
  timerTickSeconds: 1,
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
  const tasks: Record<string, Partial<AwsFunctionSettings>> = { ...base.tasks };
  for (const [task, s] of Object.entries(options.tasks ?? {})) {
    checkFunctionSettings(`tasks['${task}'].`, s);
    tasks[task] = { ...tasks[task], ...s };
  }
  const apiThrottle = { ...base.apiThrottle, ...defined(options.apiThrottle ?? {}) };
  const rest = defined(options, ["tasks", "apiThrottle"]);
  return { ...base, ...rest, tasks, apiThrottle };
}
