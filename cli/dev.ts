/**
 * `riffle dev`: runs a job as a service on this machine and serves its HTTP API —
 * on the embedded runtime (default), or on local AWS emulators
 * (`--runtime aws-local`): SQS, DynamoDB and Step Functions, through the real
 * Lambda handlers.
 */

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../core/api/environment.ts";
import { EmbeddedJobControl } from "../core/control/embedded-control.ts";
import type { JobCost } from "../core/control/job-control.ts";
import { SqliteAuditLog } from "../core/durable/sqlite-audit-log.ts";
import { SqliteIngestLog } from "../core/durable/sqlite-ingest-log.ts";
import { UsageError } from "../core/errors.ts";
import { parsePrincipals } from "../core/governance/principals-config.ts";
import { InMemoryAuditLog } from "../core/memory/in-memory-audit-log.ts";
import { InMemoryIngestLog } from "../core/memory/in-memory-ingest-log.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { prometheusText } from "../core/runtime/prometheus.ts";
import { createHttpApi } from "../functions/http/api.ts";
import { type CredentialSet, parseKeyList } from "../functions/http/auth.ts";
import { startAwsLocal } from "../functions/local/aws-local.ts";
import { serveHttp } from "../functions/local/http-server.ts";
import { FileOutputStore } from "./file-output-store.ts";
import { announceResume, openJobStateDir } from "./job-state-dir.ts";
import { installLambdaInvokers } from "./lambda-targets.ts";
import { loadJob } from "./load-job.ts";

/** Options of `riffle dev`. */
export interface DevOptions {
  readonly runtime: "embedded" | "aws-local";
  /** SQS and DynamoDB endpoint of running emulators (LocalStack), aws-local only. */
  readonly endpoint?: string;
  readonly port: number;
  readonly host: string;
  readonly parallelism?: number;
  readonly prefix: string;
  /** Embedded only: keep the log, state, checkpoints, savepoints and the ingest log here, and resume from them. */
  readonly stateDir?: string;
  /** Embedded only, with `stateDir`: start from this savepoint. */
  readonly fromSavepoint?: string;
  /** A principals file (`core/governance/principals-config.ts`); replaces `RIFFLE_API_KEYS`. */
  readonly principals?: string;
  /** aws-local only: `name=url` of each Lambda function the job invokes, served by a local function server. */
  readonly function?: readonly string[];
}

/** `--function name=url …` as a record; a malformed one is a usage error. */
export function remoteFunctionsOf(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9_-]+)=(https?:\/\/\S+)$/.exec(spec);
    if (!m) throw new UsageError(`invalid --function '${spec}': expected name=http://127.0.0.1:PORT/`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** How often `riffle dev --runtime aws-local` logs the job's live cost. */
const COST_LOG_MS = 60_000;

const money = (x: number) => `$${x >= 1000 ? Math.round(x).toLocaleString("en") : x.toPrecision(3)}`;

/** One line of a job's live cost: so far, per million events, per idle hour. */
export function costLine(c: JobCost): string {
  const perMillion = c.perMillionEvents ? `${money(c.perMillionEvents.total)} per 1M events` : "no events yet";
  const idle =
    c.perIdleHour && c.idleWindow
      ? `${money(c.perIdleHour.total)} per idle hour (over ${c.idleWindow.seconds} s idle, coordinator ${money(c.idleWindow.coordinatorPerHour)})`
      : "no idle window measured yet";
  const storage = c.storage ? `; storage ~${money(c.storage.dollarsPerHour)}/h for ${c.storage.bytes} bytes` : "";
  return `cost: ${money(c.dollars.total)} in ${c.seconds} s for ${c.events} events; ${perMillion}; ${idle}${storage}`;
}

/** The dashboard's address for a job served at `base`. */
export function dashboardUrl(base: string, job: string): string {
  return `${base}/ui/?job=${encodeURIComponent(job)}`;
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function devCommand(file: string, opts: DevOptions): Promise<number> {
  if (opts.endpoint !== undefined && opts.runtime !== "aws-local") {
    throw new UsageError("--endpoint only applies to --runtime aws-local");
  }
  if (opts.endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(opts.endpoint)) {
    throw new UsageError(`invalid endpoint '${opts.endpoint}': expected an http(s) URL such as http://localhost:4566`);
  }
  if (opts.function !== undefined && opts.runtime !== "aws-local") {
    throw new UsageError(
      "--function only applies to --runtime aws-local (embedded, name the function's URL in the job)",
    );
  }
  const remoteFunctions = opts.function ? remoteFunctionsOf(opts.function) : undefined;
  if ((opts.stateDir !== undefined || opts.fromSavepoint !== undefined) && opts.runtime !== "embedded") {
    throw new UsageError("--state-dir and --from-savepoint apply to --runtime embedded; aws-local resumes by --prefix");
  }
  if (opts.fromSavepoint !== undefined && opts.stateDir === undefined) {
    throw new UsageError("--from-savepoint needs --state-dir");
  }
  const keys = devCredentials(opts.principals);
  if (opts.runtime === "embedded") installLambdaInvokers(); // aws-local installs its own, on its Invoke endpoint
  const job = await loadJob(file);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const log = (line: string) => process.stderr.write(`riffle dev: ${line}\n`);
  let cleanup = () => {};
  try {
    if (opts.runtime === "aws-local") {
      const local = await startAwsLocal({
        job,
        ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}),
        ...(opts.endpoint ? { sqsEndpoint: opts.endpoint, dynamoEndpoint: opts.endpoint } : {}),
        prefix: opts.prefix,
        httpPort: opts.port,
        httpHost: opts.host,
        apiKeys: keys,
        log,
        ...(remoteFunctions ? { remoteFunctions } : {}),
      });
      log(`job '${local.plan.job}' on aws-local (SQS ${local.sqsEndpoint}, DynamoDB ${local.dynamoEndpoint})`);
      log(`HTTP API on ${local.url}; GET /jobs/${local.plan.job} reports the live cost`);
      if (local.url) log(`dashboard: ${dashboardUrl(local.url, local.plan.job)}`);
      const meter = local.cost;
      const every = setInterval(() => {
        meter?.cost().then(
          (c) => log(costLine(c)),
          (e) => log(`cost: ${String(e)}`),
        );
      }, COST_LOG_MS);
      every.unref();
      await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
      clearInterval(every);
      const final = await meter?.cost().catch(() => undefined);
      await local.stop();
      process.stderr.write(`${local.accounting.format()}\n`);
      if (final) log(costLine(final));
      return 0;
    }
    const { runtime, ingest, audit, release } = await embeddedDev(job, opts, stop.signal, log);
    cleanup = release;
    const control = new EmbeddedJobControl(runtime, ingest);
    const api = createHttpApi({
      jobs: (id) => (id === control.job ? control : undefined),
      credentials: keys,
      metrics: () => prometheusText(runtime),
      audit,
    });
    const server = await serveHttp(api, { port: opts.port, host: opts.host });
    log(`job '${control.job}' on the embedded runtime; HTTP API on ${server.url}`);
    log(`Prometheus metrics: ${server.url}/metrics`);
    log(`dashboard: ${dashboardUrl(server.url, control.job)}`);
    try {
      await runtime.run();
    } finally {
      await server.close();
    }
    return 0;
  } finally {
    cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * The credentials of `riffle dev`: the principals file, else the plain keys of
 * `RIFFLE_API_KEYS`, else one random key, printed.
 */
function devCredentials(principals: string | undefined): CredentialSet {
  if (principals !== undefined) {
    let text: string;
    try {
      text = readFileSync(principals, "utf8");
    } catch (cause) {
      throw new UsageError(`cannot read the principals file '${principals}': ${(cause as Error).message}`, { cause });
    }
    if (process.env.RIFFLE_API_KEYS)
      process.stderr.write("riffle dev: --principals given: RIFFLE_API_KEYS is ignored\n");
    return { principals: parsePrincipals(text, principals) };
  }
  const keys = parseKeyList(process.env.RIFFLE_API_KEYS);
  if (keys.length > 0) return keys;
  const key = randomBytes(18).toString("base64url");
  process.stderr.write(`riffle dev: RIFFLE_API_KEYS is not set; this run accepts the key ${key}\n`);
  return [key];
}

/**
 * The embedded runtime of `riffle dev`: in memory, or (with `--state-dir`) durable in
 * a state dir like `riffle run`'s, with the ingest log in it too, so that a restarted
 * `riffle dev` resumes from its last checkpoint and re-reads what it had accepted.
 * Committed records go to stdout as JSON lines; with a state dir, exactly once
 * across restarts (its progress marker says what was published). The API's audit
 * log is in the state dir too, or in memory.
 */
async function embeddedDev(job: Job, opts: DevOptions, signal: AbortSignal, log: (line: string) => void) {
  const common = { signal, ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}) };
  if (opts.stateDir === undefined) {
    const ingest = new InMemoryIngestLog();
    const runtime = new EmbeddedRuntime(job, {
      ...common,
      ingest,
      onOutput: (sink, values) => {
        for (const value of values) process.stdout.write(`${JSON.stringify({ sink, value })}\n`);
      },
    });
    return { runtime, ingest, audit: new InMemoryAuditLog(), release: () => {} };
  }
  const state = await openJobStateDir(opts.stateDir, job.name, opts.fromSavepoint);
  try {
    const ingest = new SqliteIngestLog(state.db);
    const output = new FileOutputStore({
      out: undefined,
      dlq: join(opts.stateDir, "dlq.jsonl"),
      progress: join(opts.stateDir, "output.json"),
      run: new Date().toISOString(),
    });
    const runtime = new EmbeddedRuntime(job, {
      ...common,
      ...state.stores,
      ingest,
      output,
      ...(opts.fromSavepoint !== undefined ? { fromSavepoint: opts.fromSavepoint } : {}),
    });
    announceResume(state, runtime.plan, log);
    return { runtime, ingest, audit: new SqliteAuditLog(state.db), release: () => state.release() };
  } catch (e) {
    state.release();
    throw e;
  }
}
