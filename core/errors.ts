/**
 * Typed errors. Every riffle error carries a machine-readable `reason` and, where
 * one exists, the underlying `cause`. Whether an error is worth retrying is decided
 * here, once, not at every catch site.
 */

/** Base class of every error riffle throws on purpose. */
export class RiffleError extends Error {
  /** A stable, machine-readable reason code. */
  readonly reason: string;
  /** True when running the same step again may succeed. */
  readonly retryable: boolean;

  constructor(reason: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = reason;
    this.retryable = options?.retryable ?? false;
  }
}

/** The job definition is invalid (bad parallelism, unknown uid, a cycle…). Never retried. */
export class JobDefinitionError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("job-definition", message, options);
  }
}

/** A user function (map, filter, process…) threw. Retried, then dead-lettered. */
export class OperatorError extends RiffleError {
  /** The operator's uid. */
  readonly operator: string;
  constructor(operator: string, cause: unknown) {
    super("operator-failed", `operator '${operator}' failed: ${describeCause(cause)}`, {
      cause,
      retryable: true,
    });
    this.operator = operator;
  }
}

/**
 * A mistake in the job's code that retrying cannot fix and that no single record
 * causes (state written that the state store cannot hold). It fails the job at
 * once: no retry, no restart, no dead letter.
 */
export class JobCodeError extends RiffleError {}

/**
 * True when `error` fails the job at once ({@link JobCodeError}): the one rule every
 * runtime applies — the embedded scheduler, and the task Lambda, which marks the job
 * record failed. Anything else (a record that failed, an infrastructure error) is
 * retried, dead-lettered or restarted as usual.
 */
export function failsJob(error: unknown): error is JobCodeError {
  return error instanceof JobCodeError;
}

/**
 * A keyed-state write of a value that would not come back the same after a crash
 * (a `Map`, a `BigInt`, a class instance, `NaN`… in JSON state). Names the
 * operator, the state and the value's type.
 */
export class StateValueError extends JobCodeError {
  /** The operator's uid. */
  readonly operator: string;
  /** The state's name. */
  readonly state: string;
  /** What was written, e.g. `Map`, `bigint`, `NaN`. */
  readonly valueType: string;
  constructor(operator: string, state: string, valueType: string, hint: string) {
    super(
      "state-value",
      `operator '${operator}' wrote ${valueType} to state '${state}', which a crash would not give back: ${hint}`,
    );
    this.operator = operator;
    this.state = state;
    this.valueType = valueType;
  }
}

/** A conditional segment append lost: another writer committed that segment first. */
export class SegmentConflictError extends RiffleError {
  constructor(task: string, partition: number, segment: number) {
    super(
      "segment-conflict",
      `segment ${segment} of ${task}[${partition}] already exists (another writer committed first)`,
      { retryable: true },
    );
  }
}

/**
 * An append of an older generation to a partition that a restore fenced: the
 * writer is a zombie of the generation before the restore, and its segment must
 * never enter the log. A {@link SegmentConflictError}, so a runner reloads as for
 * any lost append (and then drops its stale input).
 */
export class SegmentFencedError extends SegmentConflictError {
  constructor(task: string, partition: number, segment: number, generation: number, fence: number) {
    super(task, partition, segment);
    this.message =
      `segment ${segment} of ${task}[${partition}] was written by generation ${generation}, ` +
      `but the partition was restored in generation ${fence}: appends of older generations are refused`;
  }
}

/**
 * `putBase` found the partition written to: it has a base, or a segment past the new
 * base (a segment at or below it is a late append of the old generation, left below
 * the base, never read).
 */
export class PartitionNotEmptyError extends RiffleError {
  constructor(task: string, partition: number) {
    super("partition-not-empty", `${task}[${partition}] is not empty: it has a base or segments past the new base`, {
      retryable: true,
    });
  }
}

/** An envelope or item violates the protocol (unknown channel, malformed body). */
export class ProtocolError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("protocol", message, options);
  }
}

/**
 * riffle's own structures disagree (a plan without its graph node, a rollback
 * without a journal): a bug in riffle, not in the job. Never retried.
 */
export class InternalError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("internal", message, options);
  }
}

/** An output stream closed or failed before everything was written to it. */
export class OutputClosedError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("output-closed", message, options);
  }
}

/** Bad user input to the CLI or an API: wrong flag, missing file, invalid number. */
export class UsageError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("usage", message, options);
  }
}

/** Renders any thrown value as a one-line message. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return typeof cause === "string" ? cause : JSON.stringify(cause);
  } catch {
    return String(cause);
  }
}

/**
 * A user function returned a Promise where riffle needs a value (`map`, `filter`,
 * `flatMap`, a sink): the function is asynchronous (it type-checked through `any`,
 * or the job is JavaScript). A mistake in the job's code, so it fails the job at
 * once ({@link JobCodeError}) instead of failing record after record. Names the
 * operator and points to `AsyncDataStream`.
 */
export class AsyncResultError extends JobCodeError {
  /** The operator's uid. */
  readonly operator: string;
  /** `what`: the method whose function returned the Promise (`map`, `filter`, …). */
  constructor(operator: string, what: string) {
    super(
      "async-result",
      `operator '${operator}': ${what} returned a Promise; riffle functions are synchronous: use AsyncDataStream.orderedWait/unorderedWait for async I/O`,
    );
    this.operator = operator;
  }
}

/** True when `v` is a Promise or another thenable. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

/** An async I/O call did not complete within its timeout. */
export class AsyncTimeoutError extends RiffleError {
  constructor(timeoutMs: number) {
    super("async-timeout", `the async call did not complete within ${timeoutMs} ms`, { retryable: true });
  }
}

/** A remote function call failed: the endpoint refused, crashed, timed out, or answered out of contract. */
export class RemoteFunctionError extends RiffleError {
  /** The target the call went to (a Lambda function, a URL). */
  readonly target: string;
  constructor(target: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("remote-function", `remote function ${target}: ${message}`, {
      ...options,
      retryable: options?.retryable ?? true,
    });
    this.target = target;
  }
}
