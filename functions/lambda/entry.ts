/**
 * The bundle entry of every Lambda of a deployed job. `riffle-job` is not a package:
 * the stack's bundler (`stacks/bundle.ts`) aliases it to the job module being
 * deployed, so each deployment bundles exactly one job. A function's `handler`
 * setting (`entry.task`, `entry.trigger`, …) picks its role; see `roles.ts`.
 */

import job from "riffle-job";
import { lambdaRoles } from "./roles.ts";

// A copy of the environment as the function was configured (a Lambda's never changes).
const roles = lambdaRoles(job, { ...process.env });

/** The task function (SQS FIFO event source). */
export const task = roles.task;
/** Coordinator step: start checkpoint n. */
export const trigger = roles.trigger;
/** Coordinator step: collect the acks of checkpoint n. */
export const poll = roles.poll;
/** Coordinator step: publish the newest completed checkpoint. */
export const complete = roles.complete;
/** Coordinator step: abort a timed-out checkpoint. */
export const abort = roles.abort;
/** Coordinator step: fail the job over to its last checkpoint. */
export const restore = roles.restore;
/** Coordinator step: start the next execution of the state machine. */
export const continueAsNew = roles.continueAsNew;
/** The HTTP API (API Gateway v2 payload). */
export const http = roles.http;
