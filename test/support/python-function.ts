/**
 * Starts a Python remote function (a script that calls `riffle_sdk.serve`) on
 * 127.0.0.1 for a test, with `sdk/python` on its path; fails loudly without python3.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
/** The SDK's directory. */
export const SDK_PYTHON = join(ROOT, "sdk", "python");

/** Throws unless `python3` runs (CI's .ci/run installs it). */
export function requirePython(): void {
  const r = spawnSync("python3", ["--version"], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`python3 is required for the remote-function tests: ${r.error?.message ?? r.stderr}`);
}

/** A running Python function server. */
export interface PythonFunction {
  readonly url: string;
  readonly child: ChildProcess;
  /** What it printed on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs `script` (path from the repo root) with `env`; resolves once it prints its URL. */
export function startPythonFunction(script: string, env: Record<string, string> = {}): Promise<PythonFunction> {
  return startPython([join(ROOT, script)], SDK_PYTHON, env);
}

/** Serves module `module` of directory `dir` (from the repo root) with `python3 -m riffle_sdk`. */
export function startPythonModule(dir: string, module: string): Promise<PythonFunction> {
  return startPython(["-m", "riffle_sdk", module, "0"], `${SDK_PYTHON}:${join(ROOT, dir)}`, {});
}

async function startPython(args: string[], path: string, env: Record<string, string>): Promise<PythonFunction> {
  requirePython();
  const script = args.join(" ");
  const child = spawn("python3", ["-u", ...args], {
    env: { ...process.env, PYTHONPATH: path, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before listening: ${err}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { url, child, stderr: () => err, stop };
}
