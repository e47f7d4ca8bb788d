/**
 * The job module a Lambda bundle is built for: `stacks/bundle.ts` aliases
 * `riffle-job` to the deployed job's file, whose default export is `defineJob(…)`.
 */
declare module "riffle-job" {
  const job: import("../../core/api/environment.ts").Job;
  export default job;
}
