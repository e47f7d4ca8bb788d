/**
 * `npm run sim -- --seeds N [--from S] [--records R] [--verbose]`: runs every
 * scenario under N seeded fault schedules and prints divergences from the oracle
 * (there must be none). Exit code 1 on any divergence.
 */
import { parseArgs } from "node:util";
import { scenarios } from "./scenarios.ts";
import { type FaultCounts, simulate } from "./simulate.ts";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "100" },
    from: { type: "string", default: "1" },
    records: { type: "string", default: "400" },
    verbose: { type: "boolean", default: false },
  },
});
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`sim: --${name} must be a non-negative integer, got '${v}'`);
    process.exit(2);
  }
  return n;
};
const seeds = int("seeds", values.seeds);
const from = int("from", values.from);
const records = int("records", values.records);

const totals: Partial<Record<keyof FaultCounts, number>> = {};
let divergences = 0;
let runs = 0;
/** Runs whose batches went through the task Lambda's handler. */
let awsRuns = 0;
let checkpoints = 0;
let restarts = 0;
let payloadObjects = 0;
/** Runs that wrote the published marks lazily. */
let lazyMarksRuns = 0;
let rescaled = 0;
const t0 = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  for (const scenario of scenarios(records)) {
    const r = await simulate(scenario, seed);
    runs++;
    if (r.aws) awsRuns++;
    if (r.lazyMarks) lazyMarksRuns++;
    checkpoints += r.checkpoints;
    restarts += r.restarts;
    payloadObjects += r.payloadObjects;
    rescaled += r.rescaled;
    for (const [k, v] of Object.entries(r.faults))
      totals[k as keyof FaultCounts] = (totals[k as keyof FaultCounts] ?? 0) + v;
    if (r.diffs.length > 0) {
      divergences++;
      console.log(`DIVERGENCE seed ${seed} ${r.scenario}${r.aws ? " (aws handler)" : ""}:\n  ${r.diffs.join("\n  ")}`);
    } else if (values.verbose) {
      console.log(`ok seed ${seed} ${r.scenario}: ${r.checkpoints} checkpoints, ${r.restarts} restarts`);
    }
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify(
    {
      seeds,
      runs,
      awsHandlerRuns: awsRuns,
      lazyMarksRuns,
      divergences,
      seconds: Number(secs.toFixed(2)),
      seedsPerSecond: Number((seeds / secs).toFixed(2)),
      checkpoints,
      restarts,
      payloadObjects,
      rescaled,
      faults: totals,
    },
    null,
    2,
  ),
);
process.exit(divergences > 0 ? 1 : 0);
