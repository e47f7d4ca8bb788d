/** The `riffle` command line. */

import { Command, CommanderError, Option } from "commander";
import { buildGraph } from "../core/api/environment.ts";
import { RiffleError, UsageError } from "../core/errors.ts";
import { describePlan } from "../core/graph/describe.ts";
import { planJob } from "../core/graph/planner.ts";
import { readDeadLetters } from "./dlq.ts";
import { loadJob, parseParallelism } from "./load-job.ts";
import { runCommand } from "./run.ts";

const program = new Command("riffle")
  .description("riffle: a stream processor in the spirit of Apache Flink, for AWS serverless")
  .version("0.1.0")
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ outputError: () => {} });

const workDir = () =>
  new Option("--work-dir <dir>", "where riffle keeps per-job files (dead letters)").default(".riffle");
const parallelism = () =>
  new Option("-p, --parallelism <n>", "default parallelism of the job's operators").argParser(parseParallelism);

program
  .command("run")
  .description("run a job on the embedded runtime until its input ends (Ctrl-C stops an unbounded job)")
  .argument("<job>", "job module (.ts) whose default export is defineJob(…)")
  .option("-o, --out <file>", "write committed sink records here as JSON lines (default: stdout)")
  .addOption(parallelism())
  .addOption(
    new Option("--format <format>", "how to print committed records").choices(["jsonl", "table"]).default("jsonl"),
  )
  .option("--no-progress", "do not show the live progress line")
  .addOption(workDir())
  .action(
    async (
      file: string,
      opts: { out?: string; parallelism?: number; progress: boolean; workDir: string; format: "jsonl" | "table" },
    ) => {
      process.exitCode = await runCommand(file, opts);
    },
  );

program
  .command("plan")
  .description("print a job's task graph")
  .argument("<job>", "job module (.ts)")
  .option("--json", "print the plan as JSON")
  .addOption(parallelism())
  .action(async (file: string, opts: { json?: boolean; parallelism?: number }) => {
    const job = await loadJob(file);
    const plan = planJob(buildGraph(job, opts.parallelism === undefined ? {} : { parallelism: opts.parallelism }));
    process.stdout.write(`${opts.json ? JSON.stringify(plan, null, 2) : describePlan(plan)}\n`);
  });

const dlq = program.command("dlq").description("inspect dead-lettered records");
dlq
  .command("list")
  .description("list a job's dead-lettered records")
  .argument("<job>", "job name, or job module (.ts)")
  .option("--json", "print JSON lines")
  .addOption(workDir())
  .action(async (jobArg: string, opts: { json?: boolean; workDir: string }) => {
    const name = /\.(ts|js|mts|mjs)$/.test(jobArg) ? (await loadJob(jobArg)).name : jobArg;
    const letters = readDeadLetters(opts.workDir, name);
    if (opts.json) {
      for (const l of letters) process.stdout.write(`${JSON.stringify(l)}\n`);
      return;
    }
    if (letters.length === 0) {
      process.stdout.write(`no dead letters for job '${name}'\n`);
      return;
    }
    for (const l of letters) {
      process.stdout.write(
        `${l.run}  ${l.task}[${l.partition}]  ${l.operator}  after ${l.attempts} attempts: ${l.error}\n    value: ${JSON.stringify(l.value)}\n`,
      );
    }
    process.stdout.write(`${letters.length} dead letter(s)\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      process.exitCode = 0;
    } else {
      process.stderr.write(`riffle: ${error.message.replace(/^error: /, "")}\n`);
      process.exitCode = 2;
    }
  } else if (error instanceof UsageError || (error instanceof RiffleError && error.reason === "job-definition")) {
    process.stderr.write(`riffle: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`riffle: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
