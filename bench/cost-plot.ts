/**
 * `node bench/cost-plot.ts <report.json> <out.svg>`: draws the cost-against-rate
 * plot (bench/cost-svg.ts) from a saved benchmark report that holds `aws.bursty`
 * (`npm run bench -- aws --save`, or any `--json` output). `npm run bench -- aws
 * --svg <out.svg>` does the same at the end of a run.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { costSvg } from "./cost-svg.ts";
import type { BenchReport } from "./report.ts";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write("usage: node bench/cost-plot.ts <report.json> <out.svg>\n");
  process.exit(2);
}
const report = JSON.parse(readFileSync(input, "utf8")) as BenchReport;
const bursty = report.aws?.bursty;
if (!bursty) {
  process.stderr.write(`cost-plot: ${input} has no aws.bursty figure (run the aws part of the benchmark)\n`);
  process.exit(2);
}
writeFileSync(output, costSvg(bursty, { date: report.date, quick: report.quick }));
process.stderr.write(`wrote ${output}\n`);
