/**
 * Adds a riffle job's stack to an SST app: loads the job module, plans the
 * deployment, bundles the Lambda code, and registers the stack (`<stage>-riffle-<job>`).
 * `sst.config.ts`, `npm run synth` and the tests all come through here.
 */

import { join, resolve } from "node:path";
import type { App } from "sst/constructs";
import { loadJob } from "../cli/load-job.ts";
import { bundleJob, type JobBundle, ROOT } from "./bundle.ts";
import { cleanName, type DeploymentPlan, deploymentPlan } from "./deploy-plan.ts";
import { type RiffleStackFunction, riffleStack } from "./riffle-stack.ts";

/** Options of {@link addRiffleStack}. */
export interface AddRiffleStackOptions {
  /** The job module (its default export is `defineJob(…)`). */
  readonly jobFile: string;
  /** Default parallelism of the job's operators (as `riffle run --parallelism`). */
  readonly parallelism?: number;
  /** Where the Lambda bundle is written (default `.sst/riffle/<stage>/<job>`). */
  readonly bundleDir?: string;
}

/** What {@link addRiffleStack} added. */
export interface AddedRiffleStack {
  /** The stack function: `getStack(fn)` finds the stack. */
  readonly fn: RiffleStackFunction;
  readonly deployment: DeploymentPlan;
  readonly bundle: JobBundle;
}

/**
 * Stages whose tables (and so the job's state, checkpoints and output) survive
 * `sst remove`; every other stage is removed whole.
 */
export const RETAINED_STAGES: readonly string[] = ["prod"];

/** Adds the stack of `options.jobFile` to `app`. */
export async function addRiffleStack(app: App, options: AddRiffleStackOptions): Promise<AddedRiffleStack> {
  const job = await loadJob(options.jobFile);
  if (!RETAINED_STAGES.includes(app.stage)) app.setDefaultRemovalPolicy("destroy");
  const deployment = deploymentPlan(job, {
    stage: app.stage,
    ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
  });
  const bundle = await bundleJob({
    jobFile: options.jobFile,
    outDir: resolve(options.bundleDir ?? join(ROOT, ".sst", "riffle", cleanName(app.stage), cleanName(deployment.job))),
  });
  const fn = riffleStack({ deployment, bundle });
  app.stack(fn, { id: cleanName(deployment.job) });
  return { fn, deployment, bundle };
}
