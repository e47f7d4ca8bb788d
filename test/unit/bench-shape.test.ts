/**
 * `node bench/run.ts --quick --json --svg <file>` (what `npm run bench -- --quick
 * --json --svg <file>` runs) exits 0, prints one JSON document holding every figure
 * of the benchmark, and draws the cost plot: the shape is checked, never the values
 * (speed is measured by the benchmark, not asserted here). The quick run starts
 * DynamoDB Local, so Java 17 must be present.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const RUN = join(ROOT, "bench", "run.ts");

function run(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", RUN, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bench ${args.join(" ")} did not finish within ${ms} ms; stderr:\n${stderr}`));
    }, ms);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

type Json = Record<string, unknown>;
const obj = (x: unknown, where: string): Json => {
  expect(typeof x === "object" && x !== null && !Array.isArray(x), `${where} is an object`).toBe(true);
  return x as Json;
};
const arr = (x: unknown, where: string): unknown[] => {
  expect(Array.isArray(x), `${where} is an array`).toBe(true);
  return x as unknown[];
};
/** Every `keys` of `o` is a finite number. */
const numbers = (o: unknown, keys: readonly string[], where: string) => {
  const j = obj(o, where);
  for (const k of keys) expect(Number.isFinite(j[k]), `${where}.${k} is a finite number (got ${j[k]})`).toBe(true);
};

const DOLLARS = ["sqs", "dynamodb", "lambda", "stepFunctions", "apiGateway", "s3", "total"];
const USAGE = [
  "sqsRequests",
  "dynamoWriteUnits",
  "dynamoReadUnits",
  "lambdaInvocations",
  "lambdaGbSeconds",
  "stateTransitions",
  "expressRequests",
  "expressGbSeconds",
  "apiRequests",
  "pollerEpuHours",
  "s3PutRequests",
  "s3GetRequests",
];
const LAMBDA = ["invocations", "durationMs", "gbSeconds"];
const BY_SERVICE = ["requests", "billedRequests", "readUnits", "writeUnits"];

function checkAwsQuery(q: Json, name: string, keyed: boolean): void {
  const w = `aws.queries.${name}`;
  numbers(q, ["events", "rows", "wallSeconds", "startSeconds", "eventsPerSec", "statefulHops"], w);
  expect(arr(q.tasks, `${w}.tasks`).length).toBeGreaterThan(0);
  numbers(q.coordinator, ["round", "continueAsNew"], `${w}.coordinator`);
  const pm = obj(q.perMillionEvents, `${w}.perMillionEvents`);
  numbers(pm, ["setupRequests", "stateTransitions", "modelledReceives"], `${w}.perMillionEvents`);
  const own = obj(pm.own, `${w}.own`);
  numbers(
    obj(own.SQS, `${w}.own.SQS`).SendMessageBatch,
    ["requests", "billedRequests"],
    `${w}.own.SQS.SendMessageBatch`,
  );
  numbers(obj(own.DynamoDB, `${w}.own.DynamoDB`).PutItem, ["requests", "writeUnits"], `${w}.own.DynamoDB.PutItem`);
  const polling = obj(obj(pm.polling, `${w}.polling`).SQS, `${w}.polling.SQS`);
  numbers(polling.ReceiveMessage, ["requests", "billedRequests"], `${w}.polling.SQS.ReceiveMessage`);
  for (const s of ["SQS", "DynamoDB"]) numbers(obj(pm.ownByService, `${w}.ownByService`)[s], BY_SERVICE, `${w}.${s}`);
  const fns = Object.entries(obj(pm.lambda, `${w}.perMillionEvents.lambda`));
  expect(fns.length, `${w}: Lambda functions`).toBeGreaterThanOrEqual(2);
  for (const [fn, l] of fns) numbers(l, LAMBDA, `${w}.lambda.${fn}`);
  numbers(obj(q.lambdaRun, `${w}.lambdaRun`).tasks, LAMBDA, `${w}.lambdaRun.tasks`);
  numbers(obj(q.lambdaRun, `${w}.lambdaRun`).coordinator, LAMBDA, `${w}.lambdaRun.coordinator`);
  const d = obj(q.dollarsPerMillionEvents, `${w}.dollars`);
  expect(typeof d.includes).toBe("string");
  numbers(d.measured, DOLLARS, `${w}.dollars.measured`);
  numbers(d.sustained, DOLLARS, `${w}.dollars.sustained`);
  if (keyed) numbers(d, ["perStatefulHop"], `${w}.dollars`);
  else expect(d.perStatefulHop, `${w}: no stateful hop`).toBeNull();
  numbers(q.naive, ["dollarsPerMillionEvents", "riffleCheaperBy"], `${w}.naive`);
  expect(arr(obj(q.naive, "naive").recordsPerHopPerEvent, `${w}.naive.recordsPerHopPerEvent`).length).toBeGreaterThan(
    0,
  );
  numbers(
    q.flink,
    ["perCore", "kpusAtMeasuredRate", "dollarsPerMillionEventsAtMeasuredRate", "dollarsPerMillionEventsAtFullKpu"],
    `${w}.flink`,
  );
  numbers(q.riffleAtMeasuredRate, ["dollarsPerHour", "dollarsPerMillionEvents"], `${w}.riffleAtMeasuredRate`);
  const rates = obj(q.riffleCheaperRates, `${w}.riffleCheaperRates`);
  for (const i of ["1s", "10s", "60s"]) arr(rates[i], `${w}.riffleCheaperRates.${i}`);
}

/** The bursty day: its run, the split into idle hours and events, the day against Managed Flink, the curve. */
function checkBursty(b: Json): void {
  expect(typeof b.method).toBe("string");
  const profile = obj(b.profile, "bursty.profile");
  numbers(profile, ["dayEvents", "meanRate", "peakRate", "idleHours"], "bursty.profile");
  expect(arr(profile.segments, "bursty.profile.segments").length).toBeGreaterThan(3);
  const run = obj(b.run, "bursty.run");
  numbers(
    run,
    [
      "secondsPerHour",
      "compression",
      "events",
      "bids",
      "rows",
      "ingestCalls",
      "seconds",
      "idleSeconds",
      "drainSeconds",
    ],
    "bursty.run",
  );
  expect(run.rows, "every bid's aggregate committed").toBe(run.bids);
  numbers(b.usagePerMillionEvents, USAGE, "bursty.usagePerMillionEvents");
  numbers(b.usagePerIdleHour, USAGE, "bursty.usagePerIdleHour");
  numbers(b.dollarsPerMillionEvents, DOLLARS, "bursty.dollarsPerMillionEvents");
  numbers(b.dollarsPerIdleHour, DOLLARS, "bursty.dollarsPerIdleHour");
  numbers(b, ["coordinatorDollarsPerActiveHour"], "bursty");
  const storage = obj(b.storage, "bursty.storage");
  numbers(storage, ["dayBytes", "dollarsPerDay"], "bursty.storage");
  numbers(storage.tableBytes, ["log", "state", "checkpoints", "ingest", "output"], "bursty.storage.tableBytes");
  numbers(b.riffle, ["dollarsPerDay", "idle", "events", "storage", "scaledRun"], "bursty.riffle");
  const flink = obj(b.flink, "bursty.flink");
  numbers(flink, ["perCore", "perKpuHour", "storageGbPerKpu"], "bursty.flink");
  numbers(flink.peakSized, ["kpus", "dollarsPerDay"], "bursty.flink.peakSized");
  numbers(flink.floor, ["kpus", "dollarsPerDay"], "bursty.flink.floor");
  expect(typeof b.riffleCheaperThanFlinkFloor).toBe("boolean");
  expect(typeof b.riffleCheaperThanFlinkPeakSized).toBe("boolean");
  arr(b.riffleCheaperMeanRates, "bursty.riffleCheaperMeanRates");
  const curve = arr(b.byMeanRate, "bursty.byMeanRate");
  expect(curve.length).toBeGreaterThan(40);
  for (const c of curve) numbers(c, ["meanRate", "riffle", "flinkPeakSized", "flinkFloor"], "bursty.byMeanRate");
}

describe("npm run bench -- --quick --json --svg <file>", () => {
  it("exits 0, prints every part's figures, the goals included, and draws the cost plot", async () => {
    const svg = join(mkdtempSync(join(tmpdir(), "riffle-bench-")), "cost.svg");
    const r = await run(["--quick", "--json", "--svg", svg], 150_000);
    expect(r.code, r.stderr).toBe(0);
    const report = obj(JSON.parse(r.stdout), "report");
    expect(typeof report.date).toBe("string");
    numbers(report.machine, ["cores"], "machine");
    expect(report.quick).toBe(true);
    expect(report.parts).toEqual(["embedded", "nexmark", "checkpoint", "aws", "latency"]);
    const load = obj(report.loadAverage, "loadAverage");
    expect(Object.keys(load)).toEqual(report.parts);
    for (const [part, range] of Object.entries(load)) {
      expect(arr(range, `loadAverage.${part}`).every((x) => Number.isFinite(x))).toBe(true);
    }

    const jobs = arr(obj(report.embedded, "embedded").jobs, "embedded.jobs");
    expect(jobs).toHaveLength(3);
    for (const j of jobs)
      numbers(j, ["records", "seconds", "recordsPerSecond", "segments", "batches", "output"], "job");

    const queries = arr(obj(report.nexmark, "nexmark").queries, "nexmark.queries") as Json[];
    expect(queries.map((q) => q.query)).toEqual([
      "q0",
      "q1",
      "q2",
      "q3",
      "q4",
      "q5",
      "q7",
      "q8",
      "q9",
      "q11",
      "q12",
      "q14",
      "q15",
      "q17",
      "q18",
      "q19",
    ]);
    const nexmarkFields = ["events", "riffleEventsPerSec", "baselineEventsPerSec", "ratioToBaseline", "flinkPerCore"];
    for (const q of queries) numbers(q, [...nexmarkFields, "multipleOfFlink", "rows", "baselineRows"], `${q.query}`);

    const cp = obj(report.checkpoint, "checkpoint");
    const embedded = obj(cp.embedded, "checkpoint.embedded");
    numbers(embedded, ["ratioLargestToSmallest"], "checkpoint.embedded");
    const cpFields = [
      "keys",
      "checkpoints",
      "checkpointMsMedian",
      "checkpointMsP90",
      "alignmentMsMedian",
      "restores",
      "restoreMs",
    ];
    for (const c of arr(embedded.bySize, "embedded.bySize")) numbers(c, cpFields, "checkpoint.embedded.bySize");
    const emu = obj(cp.emulators, "checkpoint.emulators");
    numbers(emu, ["ratioLargestToSmallest", "restoreRatioLargestToSmallest"], "checkpoint.emulators");
    const emuSizes = arr(emu.bySize, "emulators.bySize");
    expect(emuSizes.length).toBeGreaterThanOrEqual(2);
    for (const c of emuSizes) numbers(c, [...cpFields, "loadSeconds", "recoveryMs"], "checkpoint.emulators.bySize");

    const aws = obj(report.aws, "aws");
    expect(typeof obj(aws.prices, "aws.prices").asOf).toBe("string");
    const idle = obj(aws.idle, "aws.idle");
    numbers(
      idle,
      ["seconds", "rounds", "stateTransitionsPerHour", "dollarsPerHourMeasured", "dollarsPerHourOwn"],
      "aws.idle",
    );
    numbers(idle.fixedDollarsPerHour, ["1s", "10s", "60s"], "aws.idle.fixedDollarsPerHour");
    numbers(idle.dollarsPerRound, DOLLARS, "aws.idle.dollarsPerRound");
    const active = obj(aws.activeCoordinator, "aws.activeCoordinator");
    numbers(active, ["seconds", "events", "rounds", "checkpoints"], "aws.activeCoordinator");
    expect(active.rounds as number, "the coordinator ran rounds").toBeGreaterThan(0);
    numbers(active.usagePerRound, USAGE, "aws.activeCoordinator.usagePerRound");
    numbers(active.usagePerHour, USAGE, "aws.activeCoordinator.usagePerHour");
    numbers(active.dollarsPerHour, DOLLARS, "aws.activeCoordinator.dollarsPerHour");
    numbers(active, ["roundsPerSecond"], "aws.activeCoordinator");
    numbers(
      active.dollarsPerHourAtOneRoundPerSecond,
      DOLLARS,
      "aws.activeCoordinator.dollarsPerHourAtOneRoundPerSecond",
    );
    const awsQueries = arr(aws.queries, "aws.queries") as Json[];
    expect(awsQueries.map((q) => q.query)).toEqual(["q0", "q5", "q7"]);
    for (const q of awsQueries) checkAwsQuery(q, q.query as string, q.query !== "q0");
    checkBursty(obj(aws.bursty, "aws.bursty"));
    const drawn = readFileSync(svg, "utf8");
    expect(drawn.startsWith("<svg")).toBe(true);
    expect(drawn.match(/<path /g)?.length, "riffle, Flink sized for the peak, Flink's floor").toBe(3);

    numbers(
      report.latency,
      ["rate", "seconds", "checkpointIntervalMs", "measured", "p50Ms", "p90Ms", "p99Ms", "maxMs"],
      "latency",
    );
    expect(obj(report.latency, "latency").measured).toBeGreaterThan(0);

    const goals = arr(report.goals, "goals") as Json[];
    expect(goals).toHaveLength(13);
    expect(goals.filter((g) => String(g.goal).startsWith("issue 13:"))).toHaveLength(5);
    for (const g of goals) {
      expect(typeof g.goal).toBe("string");
      expect(typeof g.measured).toBe("string");
      expect(typeof g.met, `goal '${g.goal}' was judged`).toBe("boolean");
    }
  }, 160_000);

  it("runs the cdc part when named: snapshot, streaming and latency figures on its own Postgres and DynamoDB Local", async () => {
    const r = await run(["cdc", "--quick", "--json"], 360_000);
    expect(r.code, r.stderr).toBe(0);
    const report = obj(JSON.parse(r.stdout), "report");
    expect(report.parts).toEqual(["cdc"]);
    numbers(
      report.cdc,
      ["rows", "snapshotRowsPerSec", "streamingChangesPerSec", "latencySamples", "latencyP50Ms", "latencyP99Ms"],
      "cdc",
    );
    expect(obj(report.cdc, "cdc").latencySamples).toBeGreaterThan(0);
    numbers(
      report.cdcDynamodb,
      ["rows", "snapshotRowsPerSec", "streamingChangesPerSec", "latencySamples", "latencyP50Ms", "latencyP99Ms"],
      "cdcDynamodb",
    );
    expect(obj(report.cdcDynamodb, "cdcDynamodb").latencySamples).toBeGreaterThan(0);
  }, 370_000);

  it("runs the warehouse part when named: lookups and a snapshot query per store, DuckDB beside them", async () => {
    const r = await run(["warehouse", "--quick", "--json"], 150_000);
    expect(r.code, r.stderr).toBe(0);
    const report = obj(JSON.parse(r.stdout), "report");
    expect(report.parts).toEqual(["warehouse"]);
    const w = obj(report.warehouse, "warehouse");
    const stores = w.stores as Record<string, unknown>[];
    expect(stores.map((s) => s.store)).toEqual([
      "embedded, in memory",
      "embedded, state dir (SQLite)",
      "aws-local, DynamoDB Local",
    ]);
    for (const s of stores)
      numbers(s, ["lookups", "lookupMsP50", "lookupMsP99", "queryMs", "rowsScannedPerSecond"], String(s.store));
    numbers(w.duckdb, ["loadMs", "queryMs", "rowsScannedPerSecond"], "duckdb");
  }, 160_000);

  it("runs the remote part when named: records/s per function and batch size, the local map beside them", async () => {
    const r = await run(["remote", "--quick", "--json"], 150_000);
    expect(r.code, r.stderr).toBe(0);
    const report = obj(JSON.parse(r.stdout), "report");
    expect(report.parts).toEqual(["remote"]);
    const runs = obj(report.remote, "remote").runs as Record<string, unknown>[];
    const remote = ["in-process-wire", "python-http", "python-http-batch", "typescript-http"];
    expect(runs.map((x) => `${x.fn}@${x.batchSize}`)).toEqual([
      "typescript-local@null",
      "typescript-local-hop@null",
      ...remote.flatMap((fn) => [1, 10, 100, 1000].map((b) => `${fn}@${b}`)),
    ]);
    for (const x of runs) {
      numbers(
        x,
        ["records", "seconds", "recordsPerSecond", "cpuUsPerRecord", "ofLocal", "ofHop"],
        `${x.fn}@${x.batchSize}`,
      );
      expect(x.ofHopRuns).toHaveLength(1); // --quick: one rep
    }
    expect(obj(report.remote, "remote").load).toHaveLength(2);
  }, 160_000);

  it("refuses an unknown part or option with exit code 2 and says which", async () => {
    const part = await run(["nope"], 30_000);
    expect(part.code).toBe(2);
    expect(part.stderr).toMatch(
      /unknown part 'nope'; parts: embedded, nexmark, checkpoint, aws, aws-coordinator, latency, sql, cdc, warehouse, remote/,
    );
    const option = await run(["--fast"], 30_000);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--fast'/);
    const svg = await run(["embedded", "--svg", "x.svg"], 30_000);
    expect(svg.code).toBe(2);
    expect(svg.stderr).toMatch(/--svg draws the aws part's bursty day: run the aws part/);
    const noFile = await run(["aws", "--svg"], 30_000);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--svg needs a file name/);
  });
});
