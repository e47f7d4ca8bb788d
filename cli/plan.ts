/** `riffle plan`: a job's task graph, as text or JSON. */

import { buildGraph } from "../core/api/environment.ts";
import { describePlan } from "../core/graph/describe.ts";
import { planJob } from "../core/graph/planner.ts";
import { loadJob } from "./load-job.ts";

/** The plan of the job in `file`, described (or as JSON with `json`). */
export async function planCommand(file: string, opts: { readonly json?: boolean; readonly parallelism?: number }) {
  const job = await loadJob(file);
  const plan = planJob(buildGraph(job, opts.parallelism === undefined ? {} : { parallelism: opts.parallelism }));
  return opts.json ? JSON.stringify(plan, null, 2) : describePlan(plan);
}
