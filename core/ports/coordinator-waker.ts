/**
 * The `CoordinatorWaker` port: starts the coordinator of a job that went to sleep
 * (scale to zero). On AWS it is a Step Functions `StartExecution` under a
 * deterministic name; in `riffle dev --runtime aws-local` it starts the local
 * machine again. An execution of that name that exists already counts as started,
 * so a retried wake starts nothing twice.
 */

/** Starts a sleeping job's coordinator. */
export interface CoordinatorWaker {
  /** Starts the coordinator's next execution under `name` (unique per wake of the job). */
  start(name: string): Promise<void>;
}
