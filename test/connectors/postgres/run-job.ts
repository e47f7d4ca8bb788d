/**
 * Runs of the CDC job (`test/fixtures/cdc-job.ts`: table `src` into table `dst`)
 * as `riffle run --state-dir` child processes, for the tests that SIGKILL it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/cdc-job.ts";

/** A running job: its process, its exit code once it ends, its stderr so far. */
export interface JobRun {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
  ended(): boolean;
}

/** Starts a run of the job with state in `state`, its source reading `url` and its sink writing `sinkUrl`. */
export function runCdcJob(state: string, url: string, sinkUrl: string, env: Record<string, string> = {}): JobRun {
  const child = spawn(process.execPath, [BIN, "run", JOB, "--state-dir", state, "--no-progress"], {
    cwd: ROOT,
    env: { ...process.env, RIFFLE_CDC_URL: url, RIFFLE_CDC_SINK_URL: sinkUrl, RIFFLE_CDC_CHUNK: "100", ...env },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (c) => {
      code = c;
      resolve(c);
    }),
  );
  return { child, exited, stderr: () => stderr, ended: () => code !== undefined };
}

/** SIGKILLs `run` and waits until it is gone. */
export async function killRun(run: JobRun): Promise<void> {
  run.child.kill("SIGKILL");
  await run.exited;
}

/** Waits for `run` to end by itself, SIGKILLing it after `ms`; its exit code. */
export async function finish(run: JobRun, ms = 90_000): Promise<number | null> {
  const timer = setTimeout(() => run.child.kill("SIGKILL"), ms);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, failing after `ms` (or when `run` ends first) with `what`. */
export async function until(what: string, check: () => Promise<boolean>, run: JobRun, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (run.ended()) throw new Error(`the job ended while waiting until ${what}:\n${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
