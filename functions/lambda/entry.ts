/**
 * The bundle entry of every Lambda of a deployed job. `riffle-job` is not a package:
 * the stack's bundler (`stacks/bundle.ts`) aliases it to the job module being
 * deployed, so each deployment bundles exactly one job. A function's `handler`
 * setting (`entry.task`, `entry.round`, …) picks its role; see `roles.ts`.
 */

import job from "riffle-job";
import { lambdaRoles } from "./roles.ts";

// A copy of the environment as the function was configured (a Lambda's never changes).
const roles = lambdaRoles(job, { ...process.env });

/** The task function (SQS FIFO event source). */
export const task = roles.task;
/** Coordinator: one round (settle the checkpoint in flight, restore on failover, trigger the next). */
export const round = roles.round;
/** Coordinator step: start the next execution of the state machine. */
export const continueAsNew = roles.continueAsNew;
/** The HTTP API (API Gateway v2 payload). */
export const http = roles.http;
