/**
 * SST v2 app of riffle: one stack per deployed job.
 *
 *   RIFFLE_JOB=examples/clicks.ts npm run deploy -- --stage prod
 *
 * Environment: `RIFFLE_JOB` (required, the job module), `RIFFLE_PARALLELISM`
 * (optional default parallelism). Stages other than `prod` are removed whole by
 * `sst remove` (tables included); `prod` keeps its tables (`stacks/index.ts`).
 *
 * SST bundles this file with esbuild; the stacks are imported at run time instead
 * (Node.js 22 runs their TypeScript), so they, the core and the job module are
 * loaded once, by Node.
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { SSTConfig } from "sst";

export default {
  config() {
    return { name: "riffle", region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1" };
  },
  async stacks(app) {
    const jobFile = process.env.RIFFLE_JOB;
    if (!jobFile) {
      throw new Error("RIFFLE_JOB is not set: which job should be deployed? e.g. RIFFLE_JOB=examples/clicks.ts");
    }
    // SST runs stacks() in the project root.
    const stacks = resolve(process.cwd(), "stacks", "index.ts");
    const { addRiffleStack } = (await import(pathToFileURL(stacks).href)) as typeof import("./stacks/index.ts");
    const parallelism = process.env.RIFFLE_PARALLELISM;
    await addRiffleStack(app, {
      jobFile,
      ...(parallelism ? { parallelism: Number(parallelism) } : {}),
    });
  },
} satisfies SSTConfig;
