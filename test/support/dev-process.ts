/**
 * `riffle dev` as a child process for browser and end-to-end tests: started on a
 * free port, resolved once it prints its dashboard link, stopped with a signal.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

/** A running `riffle dev`. */
export interface DevProcess {
  readonly child: ChildProcess;
  /** Base URL of its HTTP API. */
  readonly url: string;
  /** The dashboard link it printed. */
  readonly dashboard: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `riffle dev <job> --port 0 <args>` with `env` added; rejects if it exits or stays silent. */
export async function startDev(
  job: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
): Promise<DevProcess> {
  const child = spawn(process.execPath, ["bin/riffle.js", "dev", job, "--port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let done = false;
  const t0 = Date.now();
  exited.then(() => {
    done = true;
  });
  while (!/dashboard: (\S+)/.test(err)) {
    if (done) throw new Error(`riffle dev exited early:\n${err}`);
    if (Date.now() - t0 > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`riffle dev printed no dashboard link in ${timeoutMs} ms:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const dashboard = (/dashboard: (\S+)/.exec(err) as RegExpExecArray)[1] as string;
  return {
    child,
    url: new URL(dashboard).origin,
    dashboard,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = "SIGTERM") => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}
