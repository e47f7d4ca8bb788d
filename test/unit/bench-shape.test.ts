/**
 * `node bench/run.ts --quick --json` (what `npm run bench -- --quick --json` runs)
 * exits 0 and prints one JSON document holding every figure of the benchmark: the
 * shape is checked, never the values (speed is measured by the benchmark, not
 * asserted here). The quick run starts DynamoDB Local, so Java 17 must be present.
 */

import { spawn } from "node:child_process";
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

const DOLLARS = ["sqs", "dynamodb", "lambda", "stepFunctions", "total"];
const LAMBDA = ["invocations", "durationMs", "gbSeconds"];
const BY_SERVICE = ["requests", "billedRequests", "readUnits", "writeUnits"];

function checkAwsQuery(q: Json, name: string, keyed: boolean): void {
  const w = `aws.queries.${name}`;
  numbers(q, ["events", "rows", "wallSeconds", "startSeconds", "eventsPerSec", "statefulHops"], w);
  expect(arr(q.tasks, `${w}.tasks`).length).toBeGreaterThan(0);
  numbers(q.coordinator, ["trigger", "poll", "complete", "abort", "restore"], `${w}.coordinator`);
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

describe("npm run bench -- --quick --json", () => {
  it("exits 0 and prints every part's figures, the goals included", async () => {
    const r = await run(["--quick", "--json"], 90_000);
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
    expect(jobs).toHaveLength(2);
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
    numbers(idle, ["seconds", "rounds", "stateTransitionsPerHour", "dollarsPerHourMeasured"], "aws.idle");
    numbers(idle.fixedDollarsPerHour, ["1s", "10s", "60s"], "aws.idle.fixedDollarsPerHour");
    numbers(idle.dollarsPerRound, DOLLARS, "aws.idle.dollarsPerRound");
    const awsQueries = arr(aws.queries, "aws.queries") as Json[];
    expect(awsQueries.map((q) => q.query)).toEqual(["q0", "q5", "q7"]);
    for (const q of awsQueries) checkAwsQuery(q, q.query as string, q.query !== "q0");

    numbers(
      report.latency,
      ["rate", "seconds", "checkpointIntervalMs", "measured", "p50Ms", "p90Ms", "p99Ms", "maxMs"],
      "latency",
    );
    expect(obj(report.latency, "latency").measured).toBeGreaterThan(0);

    const goals = arr(report.goals, "goals") as Json[];
    expect(goals).toHaveLength(8);
    for (const g of goals) {
      expect(typeof g.goal).toBe("string");
      expect(typeof g.measured).toBe("string");
      expect(typeof g.met, `goal '${g.goal}' was judged`).toBe("boolean");
    }
  }, 100_000);

  it("refuses an unknown part or option with exit code 2 and says which", async () => {
    const part = await run(["nope"], 30_000);
    expect(part.code).toBe(2);
    expect(part.stderr).toMatch(/unknown part 'nope'; parts: embedded, nexmark, checkpoint, aws, latency/);
    const option = await run(["--fast"], 30_000);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--fast'/);
  });
});
