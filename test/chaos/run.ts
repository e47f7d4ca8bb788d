/**
 * `npm run chaos -- --seeds N [--runtime embedded|aws-local|both] [--seed S] [--ops K]
 * [--records R] [--jobs J] [--patience SECONDS] [--log-dir DIR] [--verbose]`: the whole-product operation
 * fuzzer. Runs N seeded operation sequences (seeds S, S+1, …) per runtime, J at a
 * time (each seed has its own dirs, prefix and RNG; `--seed S` runs one alone), records each seed's
 * operation log as JSON in DIR (default `.riffle/chaos`), prints a reproduction for
 * every seed whose output broke the oracle, and a JSON summary: seeds/s, the
 * operation mix and the defects found per runtime. Exit code 1 on any violation,
 * 2 on a usage error.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type AwsChaos, startAwsChaos } from "./aws.ts";
import { findings } from "./classify.ts";
import { runEmbeddedSeed } from "./embedded.ts";
import { unmountAll } from "./files.ts";
import { killChildren, setSlack } from "./proc.ts";
import { type Runtime, reproduction, type SeedResult } from "./report.ts";

function usage(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

function options() {
  try {
    return parseArgs({
      options: {
        seeds: { type: "string" },
        seed: { type: "string" },
        runtime: { type: "string", default: "embedded" },
        ops: { type: "string" },
        records: { type: "string", default: "2000" },
        jobs: { type: "string", default: "1" },
        patience: { type: "string" },
        "log-dir": { type: "string", default: ".riffle/chaos" },
        verbose: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    usage((e as Error).message.split("\n")[0] ?? "bad arguments");
  }
}

const int = (name: string, v: string | undefined, fallback: number, min = 1): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min)
    usage(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
};

const o = options();
if (!["embedded", "aws-local", "both"].includes(o.runtime)) {
  usage(`--runtime must be embedded, aws-local or both, got '${o.runtime}'`);
}
const first = int("seed", o.seed, 1, 0);
const seeds = int("seeds", o.seeds, o.seed === undefined ? 10 : 1);
const records = int("records", o.records, 2000, 40);
const jobs = int("jobs", o.jobs, 1);
/** How long a drain or a probe (aws-local) may take before the job counts as stuck; a loaded machine needs more. */
const patienceMs = o.patience === undefined ? undefined : int("patience", o.patience, 60) * 1000;
// Embedded: the same factor on the driver's deadlines (a CLI command, a stop, the final run).
if (patienceMs) setSlack(patienceMs / 60_000);
const runtimes: Runtime[] = o.runtime === "both" ? ["embedded", "aws-local"] : [o.runtime as Runtime];
const echo = o.verbose ? (line: string) => process.stderr.write(`${line}\n`) : undefined;

let aws: AwsChaos | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killChildren();
    unmountAll();
    void (aws?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

/** Runs one seed of `runtime`, writes its log, and prints its reproduction if it broke the oracle. */
async function runSeed(runtime: Runtime, seed: number, ops: number): Promise<SeedResult> {
  const say = echo && jobs > 1 ? (line: string) => echo(`[${seed}] ${line}`) : echo;
  say?.(`${runtime} seed ${seed}`);
  const dir = mkdtempSync(join(tmpdir(), `riffle-chaos-${seed}-`));
  const r = aws
    ? await aws.runSeed({ seed, ops, dir, ...(patienceMs ? { patienceMs } : {}), ...(say ? { echo: say } : {}) })
    : await runEmbeddedSeed({ seed, ops, records, pace: 1, dir, ...(say ? { echo: say } : {}) });
  mkdirSync(o["log-dir"], { recursive: true });
  const { serverLog, ...result } = r;
  writeFileSync(join(o["log-dir"], `${runtime}-seed-${seed}.json`), `${JSON.stringify(result, null, 2)}\n`);
  if (serverLog) writeFileSync(join(o["log-dir"], `${runtime}-seed-${seed}.log`), `${serverLog.join("\n")}\n`);
  if (r.violations.length > 0) console.log(reproduction(r, ops));
  else say?.(`  ok (${r.seconds.toFixed(1)} s)`);
  return r;
}

const summary: Record<string, unknown> = {};
let failed = 0;
for (const runtime of runtimes) {
  const ops = int("ops", o.ops, runtime === "embedded" ? 14 : 12);
  const t0 = performance.now();
  const results: SeedResult[] = [];
  try {
    if (runtime === "aws-local") aws = await startAwsChaos(echo, Math.max(90_000, 2 * (patienceMs ?? 0)));
    let next = first;
    const worker = async () => {
      for (let seed = next++; seed < first + seeds; seed = next++) results.push(await runSeed(runtime, seed, ops));
    };
    await Promise.all(Array.from({ length: Math.min(jobs, seeds) }, worker));
    results.sort((a, b) => a.seed - b.seed);
  } finally {
    await aws?.stop();
    aws = undefined;
  }
  const secs = (performance.now() - t0) / 1000;
  const bad = results.filter((r) => r.violations.length > 0);
  failed += bad.length;
  const mix: Record<string, number> = {};
  for (const r of results) for (const op of r.ops) mix[op.op] = (mix[op.op] ?? 0) + 1;
  summary[runtime] = {
    seeds: results.length,
    jobs,
    opsPerSeed: ops,
    seconds: Number(secs.toFixed(1)),
    seedsPerSecond: Number((results.length / secs).toFixed(4)),
    violatingSeeds: bad.map((r) => r.seed),
    violations: bad.reduce((a, r) => a + r.violations.length, 0),
    findings: findings(results),
    operationMix: Object.fromEntries(Object.entries(mix).sort(([a], [b]) => a.localeCompare(b))),
    notes: [...new Set(results.flatMap((r) => r.notes))],
  };
}
console.log(JSON.stringify(summary, null, 2));
process.exit(failed > 0 ? 1 : 0);
