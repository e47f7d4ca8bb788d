/**
 * `npm run bench [-- <part>...] [--json] [--quick] [--save] [--svg <file>]`: riffle's benchmark.
 *
 * Parts (all of them when none is named):
 *   embedded    stateless and keyed jobs on the embedded runtime, records/s on one core
 *   nexmark     every Nexmark query embedded: events/s, hand-written baseline, Flink's per-core figure
 *   checkpoint  checkpoint, alignment and restore time by state size, embedded and on DynamoDB Local
 *   aws         q0, q5, q7 on aws-local: requests, billed units and dollars per million events; an idle
 *               job; the active coordinator; the bursty day (compressed, extrapolated) against Managed Flink
 *   aws-coordinator  only the active coordinator of the aws part (a checkpoint a second on aws-local)
 *   latency     ingest → committed sink output, p50/p99, embedded, checkpoint every second
 *   sql         every public Nexmark SQL query embedded: events/s beside the TypeScript job and Flink's
 *               per-core figure (only when named: `npm run bench -- sql`)
 *   warehouse   (only when named) dynamic tables: point-lookup p50/p99 and snapshot-query rows/s, in memory,
 *               SQLite and DynamoDB Local, beside DuckDB's figure for the same aggregate over the same rows
 *   remote      (only when named) a stateless remote function: records/s of the Python SDK's server and of
 *               the same function in TypeScript (in the job, and behind the same wire), batch sizes 1–1000
 *               (env RIFFLE_BENCH_REMOTE_REPS runs per cell, RIFFLE_BENCH_REMOTE_CELLS=python-http@100,… a subset)
 *   cdc         (only when named) Postgres CDC → the exactly-once Postgres sink on a local Postgres, and
 *               DynamoDB Streams CDC → the DynamoDB sink on DynamoDB Local: snapshot rows/s, streaming
 *               changes/s, commit-to-commit latency
 *
 * Options: `--json` prints only the JSON (stdout); without it a readable summary goes
 * to stderr too. `--quick` runs every part small (seconds, for the shape test).
 * `--save` also writes the JSON to bench/results/<date>-<machine>.json. `--svg <file>`
 * (with the aws part) also draws cost per day against mean event rate (bench/cost-svg.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { measureAwsLocal } from "./aws-local.ts";
import { measureCdc } from "./cdc.ts";
import { measureDynamoCdc } from "./cdc-dynamodb.ts";
import { measureCheckpoints } from "./checkpoint.ts";
import { measureEmulatorCheckpoints } from "./checkpoint-emulators.ts";
import { measureActiveCoordinator } from "./coordinator-active.ts";
import { loadPrices } from "./cost.ts";
import { costSvg } from "./cost-svg.ts";
import { measureEmbedded } from "./embedded.ts";
import { startEmulators } from "./emulators.ts";
import { goals } from "./goals.ts";
import { measureLatency } from "./latency.ts";
import { measureNexmark } from "./nexmark.ts";
import { measureNexmarkSql } from "./nexmark-sql.ts";
import { measureRemote } from "./remote.ts";
import { type BenchReport, sizesFor } from "./report.ts";
import { summarize } from "./summary.ts";
import { measureWarehouse } from "./warehouse.ts";

const KNOWN = [
  "embedded",
  "nexmark",
  "checkpoint",
  "aws",
  "aws-coordinator",
  "latency",
  "sql",
  "cdc",
  "warehouse",
  "remote",
] as const;
type Part = (typeof KNOWN)[number];

const fail = (message: string): never => {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
};
const args = process.argv.slice(2);
const svgAt = args.indexOf("--svg");
const svg = svgAt < 0 ? undefined : (args[svgAt + 1] ?? fail("--svg needs a file name"));
if (svg?.startsWith("--")) fail("--svg needs a file name");
const flags = svgAt < 0 ? args : args.filter((_, i) => i !== svgAt && i !== svgAt + 1);
const json = flags.includes("--json");
const quick = flags.includes("--quick");
const save = flags.includes("--save");
for (const a of flags.filter((x) => x.startsWith("--"))) {
  if (!["--json", "--quick", "--save"].includes(a))
    fail(`unknown option '${a}'; options: --json, --quick, --save, --svg <file>`);
}
const named = flags.filter((a) => !a.startsWith("--"));
for (const p of named) {
  if (!(KNOWN as readonly string[]).includes(p)) {
    process.stderr.write(`bench: unknown part '${p}'; parts: ${KNOWN.join(", ")}\n`);
    process.exit(2);
  }
}
// The aws part measures the active coordinator too: `aws-coordinator` is for running it alone. `sql` and
// `cdc` (which needs Postgres's server binaries) run only when named.
const ONLY_NAMED: readonly Part[] = ["aws-coordinator", "sql", "cdc", "warehouse", "remote"];
const parts = new Set<Part>(named.length === 0 ? KNOWN.filter((p) => !ONLY_NAMED.includes(p)) : (named as Part[]));
if (svg !== undefined && !parts.has("aws")) fail("--svg draws the aws part's bursty day: run the aws part");
const sizes = sizesFor(quick, process.env);
const progress = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const load: Record<string, [number, number]> = {};
let current: string | undefined;
/** Notes the 1-minute load average as one part ends and the next begins (the machine may be shared). */
const mark = (part: string | undefined) => {
  const now = Number(loadavg()[0]?.toFixed(2));
  if (current !== undefined) (load[current] as [number, number])[1] = now;
  if (part !== undefined) load[part] = [now, now];
  current = part;
};

const report: BenchReport = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version },
  quick,
  parts: [...parts],
  sizes,
  loadAverage: load,
};
if (parts.has("embedded")) {
  progress("embedded …");
  mark("embedded");
  report.embedded = {
    note: "one process, one core; records/s counts source records; parallelism 1",
    jobs: await measureEmbedded(sizes.embeddedRecords),
  };
}
if (parts.has("nexmark")) {
  progress("nexmark …");
  mark("nexmark");
  report.nexmark = {
    note: "embedded, parallelism 1, events/s including generation; baseline = hand-written single JS loop over the same generated events; flinkPerCore from NEXMARK.md (Flink 1.13–2.0, GUIDE_V1, 100M events)",
    queries: await measureNexmark(sizes.nexmarkEvents),
  };
}
const emulators =
  parts.has("checkpoint") || parts.has("aws") || parts.has("aws-coordinator") || parts.has("warehouse")
    ? await startEmulators()
    : undefined;
try {
  if (parts.has("checkpoint")) {
    progress("checkpoint …");
    mark("checkpoint");
    const bySize = [];
    for (const keys of sizes.checkpointKeys) bySize.push(await measureCheckpoints(keys));
    const first = bySize[0]?.checkpointMsMedian || 1;
    const last = bySize.at(-1)?.checkpointMsMedian ?? 0;
    report.checkpoint = {
      embedded: {
        note: "embedded, in-memory stores; checkpoint = trigger to manifest while the job runs; alignment = first barrier to last barrier at a partition; restore = new generation + logs cut + relaunch; medians (25 checkpoints, 3 restores)",
        bySize,
        ratioLargestToSmallest: Number((last / first).toFixed(2)),
      },
      emulators: await measureEmulatorCheckpoints({
        sizes: sizes.emulatorCheckpointKeys,
        checkpoints: sizes.emulatorCheckpoints,
        restores: sizes.emulatorRestores,
        intervalMs: sizes.emulatorIntervalMs,
        emulators,
        log: progress,
      }),
    };
  }
  if (parts.has("aws")) {
    progress("aws-local …");
    mark("aws");
    report.aws = await measureAwsLocal({
      events: sizes.awsEvents,
      idleSeconds: sizes.awsIdleSeconds,
      activeSeconds: sizes.awsActiveSeconds,
      burstySecondsPerHour: sizes.awsBurstySecondsPerHour,
      ...(quick ? { intervalMs: sizes.emulatorIntervalMs } : {}),
      emulators,
    });
  }
  if (parts.has("aws-coordinator") && !parts.has("aws") && emulators) {
    progress("aws-local active coordinator …");
    mark("aws-coordinator");
    report.awsCoordinator = await measureActiveCoordinator(emulators, sizes.awsActiveSeconds, loadPrices());
  }
  if (parts.has("warehouse")) {
    progress("warehouse …");
    mark("warehouse");
    report.warehouse = await measureWarehouse({
      rows: sizes.warehouseRows,
      lookups: sizes.warehouseLookups,
      ...(emulators ? { emulators } : {}),
      log: progress,
    });
  }
} finally {
  await emulators?.stop();
}
if (parts.has("sql")) {
  progress("sql …");
  mark("sql");
  report.sql = {
    note: "embedded, parallelism 1, events/s including generation; SQL = the public Nexmark query file with ddl_gen.sql and ddl_views.sql (print sink); TypeScript = examples/nexmark/qN.ts (same events); each run a process of its own (bench/sql-query.ts: a small warm-up run, then the timed one from a collected heap; a --quick run times both in this process), the median of sqlReps runs, SQL and TypeScript alternating; sqlToTs = the median of the reps' paired ratios; load = 1-minute load average before and after; flinkPerCore from NEXMARK.md",
    queries: await measureNexmarkSql(sizes.nexmarkEvents, sizes.sqlReps, !quick),
  };
}
if (parts.has("remote")) {
  progress("remote …");
  mark("remote");
  report.remote = await measureRemote(
    sizes.remoteRecords,
    progress,
    sizes.remoteReps,
    process.env.RIFFLE_BENCH_REMOTE_CELLS?.split(","),
  );
}
if (parts.has("latency")) {
  progress("latency …");
  mark("latency");
  report.latency = await measureLatency(sizes.latencyRate, sizes.latencySeconds);
}
if (parts.has("cdc")) {
  progress("cdc …");
  mark("cdc");
  report.cdc = await measureCdc(sizes.cdcRows, sizes.cdcLatencySeconds);
  progress("cdc (DynamoDB) …");
  report.cdcDynamodb = await measureDynamoCdc(sizes.cdcDynamoRows, sizes.cdcLatencySeconds);
}
mark(undefined);
report.goals = goals(report);

const text = `${JSON.stringify(report, null, 2)}\n`;
process.stdout.write(text);
if (save) {
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  const machine = process.env.RIFFLE_BENCH_MACHINE ?? `node-${cpus().length}vcpu`;
  const file = join(dir, `${report.date.slice(0, 10)}-${machine}${quick ? "-quick" : ""}.json`);
  writeFileSync(file, text);
  progress(`saved ${file}`);
}
if (svg !== undefined && report.aws?.bursty) {
  writeFileSync(svg, costSvg(report.aws.bursty, { date: report.date, quick }));
  progress(`wrote ${svg}`);
}
if (!json) process.stderr.write(summarize(report));
