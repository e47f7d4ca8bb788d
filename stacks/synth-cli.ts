/**
 * `npm run synth -- --job <file> [--out DIR] [--stage S] [--parallelism N]`: synthesizes
 * a job's stack offline (no AWS credentials, no network) and prints a summary of
 * its resources. The cloud assembly (template and Lambda bundle) goes to DIR
 * (default `.sst/synth/<job>`).
 */

import { basename, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { describeCause } from "../core/errors.ts";
import { ROOT } from "./bundle.ts";
import { summarize, synthesizeJob } from "./synth.ts";

const USAGE = "usage: npm run synth -- --job <file> [--out DIR] [--stage STAGE] [--parallelism N]";

async function main(): Promise<number> {
  let values: { job?: string; out?: string; stage?: string; parallelism?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        job: { type: "string" },
        out: { type: "string" },
        stage: { type: "string" },
        parallelism: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    process.stderr.write(`synth: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.job) {
    process.stderr.write(`synth: --job is required\n${USAGE}\n`);
    return 2;
  }
  const parallelism = values.parallelism === undefined ? undefined : Number(values.parallelism);
  if (parallelism !== undefined && (!Number.isSafeInteger(parallelism) || parallelism < 1)) {
    process.stderr.write(`synth: --parallelism must be a positive integer, got '${values.parallelism}'\n`);
    return 2;
  }
  const name = basename(values.job, extname(values.job));
  const outDir = resolve(values.out ?? join(ROOT, ".sst", "synth", name));
  try {
    const s = await synthesizeJob({
      jobFile: values.job,
      stage: values.stage ?? "dev",
      root: ROOT,
      outDir,
      ...(parallelism === undefined ? {} : { parallelism }),
    });
    process.stdout.write(`${summarize(s)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`synth: ${describeCause(e)}\n`);
    return 1;
  }
}

process.exitCode = await main();
