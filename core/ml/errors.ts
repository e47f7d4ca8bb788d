/** The errors of the ML pipeline API. */

import { JobDefinitionError, RiffleError } from "../errors.ts";

/**
 * A record an ML stage cannot use (a missing column, a vector of the wrong length, a
 * label other than 0 or 1). Thrown inside an operator, it fails that record like any
 * error of job code (see `env.setRecordFailureStrategy`).
 */
export class MLRecordError extends RiffleError {
  constructor(stage: string, message: string) {
    super("ml-record", `${stage}: ${message}`);
  }
}

/**
 * A stage used where it cannot work (a model trained on a stream asked to transform an
 * in-memory table, a bad parameter): a mistake in the job, caught when it is built.
 */
export class MLUsageError extends JobDefinitionError {}
