/**
 * The `riffle` command line. Each command imports what it runs only when it runs,
 * so `riffle --help` (and a usage error) loads commander and this file alone.
 */

import { Command, CommanderError, Option } from "commander";
import { RiffleError, UsageError } from "../core/errors.ts";
import type { DevOptions } from "./dev.ts";
import { NEXMARK_QUERIES, parseParallelism, parsePort } from "./parse.ts";
import type { RunOptions } from "./run.ts";
import type { SqlOptions } from "./sql.ts";

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
  .option("--state-dir <dir>", "keep the log, checkpoints and savepoints here, and resume from them")
  .option("--from-savepoint <name>", "start from this savepoint (at the given parallelism)")
  .option("--stop-with-savepoint <name>", "on Ctrl-C/SIGTERM, take this savepoint before exiting")
  .option("--no-progress", "do not show the live progress line")
  .addOption(
    new Option("--metrics-port <n>", "serve Prometheus metrics at http://127.0.0.1:<n>/metrics").argParser(parsePort),
  )
  .addOption(workDir())
  .action(async (file: string, opts: RunOptions) => {
    if (opts.format === "table" && opts.out)
      throw new UsageError("--format table prints to stdout: drop --out or use --format jsonl");
    if ((opts.fromSavepoint || opts.stopWithSavepoint) && !opts.stateDir) {
      throw new UsageError("--from-savepoint and --stop-with-savepoint need --state-dir");
    }
    const { runCommand } = await import("./run.ts");
    process.exitCode = await runCommand(file, opts);
  });

program
  .command("sql")
  .description(
    "run a Flink SQL script (DDL and INSERT INTO) on the embedded runtime, or explain it; without files, an interactive client",
  )
  .argument("[files...]", "SQL files, run as one script in this order (none: the interactive client)")
  .option("--explain", "print each INSERT's logical, optimized and physical plans and exit")
  .option("-D, --define <NAME=VALUE...>", `replace \${NAME} in the script with VALUE`)
  .option("-o, --out <file>", "write committed sink records here as JSON lines (default: stdout)")
  .addOption(parallelism())
  .addOption(
    new Option("--format <format>", "how to print committed records").choices(["jsonl", "table"]).default("jsonl"),
  )
  .option("--no-progress", "do not show the live progress line")
  .addOption(workDir())
  .action(async (files: string[], opts: SqlOptions) => {
    if (opts.format === "table" && opts.out)
      throw new UsageError("--format table prints to stdout: drop --out or use --format jsonl");
    if (files.length === 0) {
      if (opts.explain || opts.out || opts.define?.length)
        throw new UsageError("--explain, --out and --define need SQL files (the interactive client takes none)");
      const { sqlRepl } = await import("./sql-repl.ts");
      process.exitCode = await sqlRepl(opts.parallelism === undefined ? {} : { parallelism: opts.parallelism });
      return;
    }
    const { sqlCommand } = await import("./sql.ts");
    process.exitCode = await sqlCommand(files, opts);
  });

program
  .command("describe")
  .description("list the columns of a SQL script's tables with the sensitive data the classifier finds in them")
  .argument("<files...>", "SQL files declaring tables (CREATE TABLE)")
  .option("-D, --define <NAME=VALUE...>", `replace \${NAME} in the script with VALUE`)
  .action(async (files: string[], opts: { define?: string[] }) => {
    const { describeCommand } = await import("./describe.ts");
    process.exitCode = await describeCommand(files, opts.define);
  });

program
  .command("dev")
  .description("run a job as a service with its HTTP API: embedded, or on local AWS emulators")
  .argument("<job>", "job module (.ts) whose default export is defineJob(…)")
  .addOption(
    new Option("--runtime <runtime>", "where to run it").choices(["embedded", "aws-local"]).default("embedded"),
  )
  .option("--endpoint <url>", "aws-local: SQS and DynamoDB endpoint of running emulators, e.g. LocalStack")
  .addOption(new Option("--port <n>", "HTTP port (0: any free port)").argParser(parsePort).default(8080))
  .option("--host <host>", "HTTP host to listen on", "127.0.0.1")
  .option("--prefix <prefix>", "aws-local: prefix of queue and table names", "riffle")
  .option("--state-dir <dir>", "embedded: keep the log, state, checkpoints and ingested records here, and resume")
  .option("--from-savepoint <name>", "embedded: start from this savepoint in --state-dir (at the given parallelism)")
  .option("--principals <file>", "principals file: key digests, grants and row policies (instead of RIFFLE_API_KEYS)")
  .option(
    "--function <name=url...>",
    "aws-local: a Lambda function the job invokes, served at url (a local function server, e.g. python3 -m riffle_sdk)",
  )
  .addOption(parallelism())
  .action(async (file: string, opts: DevOptions) => {
    // Loaded on demand: the AWS SDK and the emulators would slow every other command's start.
    const { devCommand } = await import("./dev.ts");
    process.exitCode = await devCommand(file, opts);
  });

program
  .command("checkpoints")
  .description("list the checkpoints and savepoints in a state dir")
  .requiredOption("--state-dir <dir>", "the job's state dir")
  .option("--json", "print JSON lines")
  .action(async (opts: { stateDir: string; json?: boolean }) => {
    const { checkpointsCommand } = await import("./checkpoints.ts");
    await checkpointsCommand(opts.stateDir, opts.json === true);
  });

program
  .command("query")
  .description("run a SELECT over the dynamic tables in a state dir, every table read at one checkpoint")
  .argument("<sql>", "one SELECT over the job's tables")
  .requiredOption("--state-dir <dir>", "the job's state dir (may be in use by `riffle run`)")
  .option("--at <checkpoint>", "read at this checkpoint (default: the newest)")
  .option("--savepoint <name>", "read at this savepoint's checkpoint")
  .addOption(new Option("--format <format>", "how to print the rows").choices(["jsonl", "table"]).default("jsonl"))
  .option("--principals <file>", "a principals file: read as the principal --as names (policies, masks, audit)")
  .option("--as <name>", "the principal of --principals to read as")
  .action(
    async (
      sql: string,
      opts: {
        stateDir: string;
        at?: string;
        savepoint?: string;
        format: "jsonl" | "table";
        principals?: string;
        as?: string;
      },
    ) => {
      if (opts.at !== undefined && opts.savepoint !== undefined)
        throw new UsageError("give --at or --savepoint, not both");
      const { queryCommand, parseCheckpoint } = await import("./query.ts");
      process.exitCode = await queryCommand(sql, {
        stateDir: opts.stateDir,
        format: opts.format,
        ...(opts.principals === undefined ? {} : { principals: opts.principals }),
        ...(opts.as === undefined ? {} : { as: opts.as }),
        ...(opts.at === undefined ? {} : { at: parseCheckpoint(opts.at) }),
        ...(opts.savepoint === undefined ? {} : { savepoint: opts.savepoint }),
      });
    },
  );

program
  .command("savepoint")
  .description("take a savepoint: from the running job if one holds the state dir, else from its last checkpoint")
  .argument("<job>", "job module (.ts)")
  .requiredOption("--state-dir <dir>", "the job's state dir")
  .requiredOption("--name <name>", "savepoint name")
  .option("--timeout <seconds>", "how long to wait for a running job", "60")
  .action(async (file: string, opts: { stateDir: string; name: string; timeout: string }) => {
    const secs = Number(opts.timeout);
    if (!(secs > 0)) throw new UsageError(`invalid timeout '${opts.timeout}': expected a positive number of seconds`);
    const { savepointCommand } = await import("./checkpoints.ts");
    await savepointCommand(file, opts.stateDir, opts.name, secs * 1000);
  });

program
  .command("plan")
  .description("print a job's task graph")
  .argument("<job>", "job module (.ts)")
  .option("--json", "print the plan as JSON")
  .addOption(parallelism())
  .action(async (file: string, opts: { json?: boolean; parallelism?: number }) => {
    const { planCommand } = await import("./plan.ts");
    process.stdout.write(`${await planCommand(file, opts)}\n`);
  });

const nexmark = program.command("nexmark").description("the Nexmark benchmark: generate events, run queries");
nexmark
  .command("generate")
  .description("write deterministic Nexmark events as JSON lines to stdout")
  .requiredOption("--events <n>", "number of events")
  .option("--seed <s>", "PRNG seed", "0")
  .option("--rate <r>", "events per second of event time", "10000")
  .action(async (opts: { events: string; seed: string; rate: string }) => {
    // Loaded on demand, like `dev`: Nexmark would slow every other command's start.
    const { nexmarkGenerateCommand, parseNexmarkOptions } = await import("../core/nexmark/cli.ts");
    await nexmarkGenerateCommand(parseNexmarkOptions(opts));
  });
nexmark
  .command("run")
  .description("run a Nexmark query bounded and write its final rows as JSON lines")
  .requiredOption("--query <q>", `one of ${NEXMARK_QUERIES.join(", ")}`)
  .option("--events <n>", "generate this many events")
  .option("--seed <s>", "PRNG seed")
  .option("--rate <r>", "events per second of event time")
  .option("--input <file>", "read events from a JSON-lines file (from `riffle nexmark generate`)")
  .addOption(parallelism())
  .option("-o, --out <file>", "write rows here (default: stdout)")
  .action(
    async (opts: {
      query: string;
      events?: string;
      seed?: string;
      rate?: string;
      input?: string;
      parallelism?: number;
      out?: string;
    }) => {
      if ((opts.input === undefined) === (opts.events === undefined)) {
        throw new UsageError("give exactly one of --events N or --input FILE");
      }
      if (opts.input !== undefined && (opts.seed !== undefined || opts.rate !== undefined)) {
        throw new UsageError("--seed and --rate go with --events, not --input");
      }
      const { parseNexmarkOptions } = await import("../core/nexmark/cli.ts");
      const { nexmarkRunCommand } = await import("./nexmark.ts");
      await nexmarkRunCommand({
        query: opts.query,
        input: opts.input !== undefined ? { file: opts.input } : parseNexmarkOptions(opts),
        ...(opts.parallelism === undefined ? {} : { parallelism: opts.parallelism }),
        ...(opts.out === undefined ? {} : { out: opts.out }),
      });
    },
  );

const dlq = program.command("dlq").description("inspect dead-lettered records");
dlq
  .command("list")
  .description("list a job's dead-lettered records")
  .argument("<job>", "job name, or job module (.ts)")
  .option("--json", "print JSON lines")
  .option("--state-dir <dir>", "the job's state dir (when it ran with one)")
  .addOption(workDir())
  .action(async (jobArg: string, opts: { json?: boolean; workDir: string; stateDir?: string }) => {
    const { dlqListCommand } = await import("./dlq.ts");
    await dlqListCommand(jobArg, opts);
  });

dlq
  .command("replay")
  .description("send a state dir's dead letters back into the job running in it (exactly once)")
  .argument("<job>", "job name, or job module (.ts)")
  .requiredOption("--state-dir <dir>", "the job's state dir (a `riffle run` must hold it)")
  .option("--id <id...>", "replay just these dead letters (default: every one not replayed yet)")
  .option("--timeout <seconds>", "how long to wait for the running job", "60")
  .action(async (jobArg: string, opts: { stateDir: string; id?: string[]; timeout: string }) => {
    const secs = Number(opts.timeout);
    if (!(secs > 0)) throw new UsageError(`invalid timeout '${opts.timeout}': expected a positive number of seconds`);
    const [{ loadJob }, { dlqReplayCommand }] = await Promise.all([import("./load-job.ts"), import("./dlq-replay.ts")]);
    const name = /\.(ts|js|mts|mjs)$/.test(jobArg) ? (await loadJob(jobArg)).name : jobArg;
    process.exitCode = await dlqReplayCommand(name, opts.stateDir, opts.id, secs * 1000);
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
  } else if (
    error instanceof RiffleError &&
    ["usage", "job-definition", "savepoint", "restore", "state-dir", "replay", "replay-target"].includes(error.reason)
  ) {
    process.stderr.write(`riffle: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`riffle: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
