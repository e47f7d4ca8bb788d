/** `riffle run`: runs a job on the embedded runtime. */

import { join } from "node:path";
import { buildGraph, type Job } from "../core/api/environment.ts";
import { UsageError } from "../core/errors.ts";
import { checkIngestFed } from "../core/graph/checks.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { dlqPath, stateDirDlq } from "./dlq.ts";
import { replayServer } from "./dlq-replay.ts";
import { FileOutputStore } from "./file-output-store.ts";
import { announceResume, openJobStateDir } from "./job-state-dir.ts";
import { installLambdaInvokers } from "./lambda-targets.ts";
import { loadJob } from "./load-job.ts";
import { serveMetrics } from "./metrics-server.ts";
import { compact, ProgressLine } from "./progress.ts";
import { failSavepointRequest, takeSavepointRequests } from "./state-dir-lock.ts";
import { printTable } from "./table.ts";

/** Options of `riffle run`. */
export interface RunOptions {
  readonly out?: string;
  readonly parallelism?: number;
  readonly workDir: string;
  readonly progress?: boolean;
  /** `jsonl` (default) streams records as they commit; `table` prints one table per sink at the end. */
  readonly format?: "jsonl" | "table";
  /** Keep segments, checkpoints and savepoints here; resume from it. */
  readonly stateDir?: string;
  readonly fromSavepoint?: string;
  readonly stopWithSavepoint?: string;
  /** Serve Prometheus metrics at `http://127.0.0.1:<port>/metrics` while the job runs. */
  readonly metricsPort?: number;
}

/** Runs `file`'s job; resolves with the process exit code. */
export async function runCommand(file: string, o: RunOptions): Promise<number> {
  installLambdaInvokers(); // remote functions named by Lambda name or ARN
  return runJob(await loadJob(file), o);
}

/** Runs `job` on the embedded runtime as `riffle run` does; resolves with the process exit code. */
export async function runJob(job: Job, o: RunOptions): Promise<number> {
  // Before the state dir is opened, so a refusal changes nothing there.
  checkIngestFed(buildGraph(job, o.parallelism === undefined ? {} : { parallelism: o.parallelism }));
  const started = new Date();
  const stop = new AbortController();
  const cleanup: (() => void)[] = [];
  const state = o.stateDir ? await openJobStateDir(o.stateDir, job.name, o.fromSavepoint) : undefined;
  if (state) cleanup.push(() => state.release());
  const tables = new Map<string, unknown[]>();
  const output = new FileOutputStore({
    out: o.format === "table" ? undefined : o.out,
    ...(o.stateDir ? stateDirDlq(o.stateDir) : { dlq: dlqPath(o.workDir, job.name) }),
    progress: o.stateDir ? join(o.stateDir, "output.json") : undefined,
    run: started.toISOString(),
    ...(o.format === "table"
      ? {
          onRecords: (sink: string, values: readonly unknown[]) =>
            tables.set(sink, [...(tables.get(sink) ?? []), ...values]),
        }
      : {}),
  });
  const rt = new EmbeddedRuntime(job, {
    ...(o.parallelism === undefined ? {} : { parallelism: o.parallelism }),
    ...(state?.stores ?? {}),
    ...(o.fromSavepoint ? { fromSavepoint: o.fromSavepoint } : {}),
    ...(o.stopWithSavepoint ? { stopWithSavepoint: o.stopWithSavepoint } : {}),
    signal: stop.signal,
    output,
  });
  if (state) announceResume(state, rt.plan, (line) => process.stderr.write(`riffle: ${line}\n`));
  if (o.metricsPort !== undefined) {
    const metrics = await serveMetrics(rt, o.metricsPort).catch((cause: unknown) => {
      for (const c of cleanup.reverse()) c();
      throw new UsageError(`cannot serve metrics on port ${o.metricsPort}: ${(cause as Error).message}`, { cause });
    });
    process.stderr.write(`riffle: Prometheus metrics at ${metrics.url}\n`);
    cleanup.push(() => void metrics.close());
  }
  const progress = new ProgressLine(rt);
  if (o.progress !== false) progress.start();
  if (o.stateDir) {
    const dir = o.stateDir;
    const refuseBefore = o.fromSavepoint && !state?.resuming ? started.getTime() : undefined;
    const replays = replayServer({ dir, job: job.name, runtime: rt, output, refuseBefore });
    const timer = setInterval(() => {
      replays();
      for (const name of takeSavepointRequests(dir)) {
        rt.savepoint(name).then(
          (sp) => process.stderr.write(`\nriffle: savepoint '${sp.name}' taken at checkpoint ${sp.checkpoint}\n`),
          (e: unknown) => failSavepointRequest(dir, name, e instanceof Error ? e.message : String(e)),
        );
      }
    }, 200);
    timer.unref();
    cleanup.push(() => clearInterval(timer));
  }
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write("\nriffle: stopping: taking a last checkpoint (Ctrl-C again to force)\n");
    stop.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  const t0 = performance.now();
  let code = 0;
  try {
    await rt.run();
  } catch (error) {
    progress.stop();
    const reason = (error as { reason?: string }).reason;
    const message = error instanceof Error ? error.message : String(error);
    code = reason === "savepoint" || reason === "restore" || reason === "state-dir" || reason === "usage" ? 2 : 1;
    // A refused operation is one line (and changed nothing); a failure also gets the summary.
    process.stderr.write(code === 2 ? `riffle: ${message}\n` : `riffle: job '${job.name}' failed: ${message}\n`);
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    for (const c of cleanup.reverse()) c();
  }
  if (code === 2) return code;
  for (const [sink, rows] of tables) printTable(sink, rows);
  const secs = (performance.now() - t0) / 1000;
  const records = rt.sourceRecords();
  const sinks = [...output.counts].map(([s, n]) => `${n} to '${s}'`).join(", ") || "nothing committed";
  const how = rt.finished ? "finished" : stop.signal.aborted ? "stopped" : "ended";
  const cp = rt.lastCheckpoint ? ` · checkpoint ${rt.lastCheckpoint.id}` : "";
  process.stderr.write(
    `riffle: ${job.name} ${how} in ${secs.toFixed(2)} s · ${compact(records)} source records (${compact(records / Math.max(secs, 1e-3))}/s) · ${sinks}${o.out ? ` → ${o.out}` : ""}${cp}\n`,
  );
  const dead = rt.deadLetters.length + rt.queueDeadLetters().length;
  if (dead > 0) {
    const where = o.stateDir ? ` --state-dir ${o.stateDir}` : "";
    process.stderr.write(`riffle: ${dead} record(s) dead-lettered; see \`riffle dlq list ${job.name}${where}\`\n`);
  }
  return code;
}
