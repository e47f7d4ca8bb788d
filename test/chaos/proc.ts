/**
 * Child processes of the chaos fuzzer: the `riffle` CLI run in the background
 * (to be killed, stopped or waited for) or in the foreground with a deadline.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/** The repository root. */
export const ROOT = join(import.meta.dirname, "../..");
/** The CLI entry point. */
export const BIN = join(ROOT, "bin/riffle.js");

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `riffle` process. */
export interface Child {
  readonly pid: number;
  readonly args: readonly string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** The exit, once known. */
  exit(): Exit | undefined;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /** The last 32 KB it wrote to stderr. */
  stderr(): string;
  /** Sends `signal` (no-op once it exited). */
  kill(signal: NodeJS.Signals): void;
}

const TAIL = 32 * 1024;

/** Children still running, for {@link killChildren}. */
const live = new Set<ChildProcess>();

/** SIGKILLs every child still running (when the fuzzer itself is stopped). */
export function killChildren(): void {
  for (const p of live) p.kill("SIGKILL");
  live.clear();
}

/** Starts `riffle ...args` with `env` added to this process's environment. */
export function spawnRiffle(args: readonly string[], env: Record<string, string> = {}): Child {
  const proc: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(proc);
  let out = "";
  let err = "";
  let ended: Exit | undefined;
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-TAIL);
  });
  // 'exit' may come before the last of stderr is read (embedded soak seed 188: exit 2 with an
  // empty stderr), so the exit is reported once both streams have ended, or 2 s after it at
  // most (a grandchild holding the pipes open must not hang the driver).
  const drained = Promise.all(
    [proc.stdout, proc.stderr].map((st) => (st ? new Promise<void>((r) => st.once("close", () => r())) : undefined)),
  );
  const exited = new Promise<Exit>((resolve) => {
    proc.on("exit", (code, signal) => {
      live.delete(proc);
      const settled = { code, signal };
      const timer = setTimeout(() => finish(), 2_000);
      const finish = () => {
        clearTimeout(timer);
        ended ??= settled;
        resolve(ended);
      };
      void drained.then(finish);
    });
    proc.on("error", (e) => {
      live.delete(proc);
      err += `\nspawn error: ${e.message}`;
      ended = { code: null, signal: null };
      resolve(ended);
    });
  });
  return {
    pid: proc.pid ?? -1,
    args,
    exited,
    exit: () => ended,
    stdout: () => out,
    stderr: () => err,
    kill: (signal) => {
      if (!ended) proc.kill(signal);
    },
  };
}

/** Factor on every deadline of the driver (`--patience`: a loaded machine needs more). */
let slack = 1;

/** Sets the factor on the driver's deadlines. */
export function setSlack(factor: number): void {
  slack = factor;
}

/** `ms`, scaled by the driver's slack: a deadline, not a pause. */
export const deadline = (ms: number): number => ms * slack;

/** The result of a foreground run. */
export interface RunResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
  /** It did not exit within the deadline and was killed. */
  readonly timedOut: boolean;
}

/** Runs `riffle ...args` to its end; SIGKILLs it after `timeoutMs` (times the slack). */
export async function runRiffle(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<RunResult> {
  const child = spawnRiffle(args, env);
  const exit = await waitExit(child, deadline(timeoutMs));
  const timedOut = exit === undefined;
  if (timedOut) child.kill("SIGKILL");
  const e = exit ?? (await child.exited);
  return { ...e, stdout: child.stdout(), stderr: child.stderr(), timedOut };
}

/** The child's exit, or `undefined` if it is still running after `ms`. */
export async function waitExit(child: Child, ms: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last `n` lines of `text`. */
export function tail(text: string, n = 5): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** Describes an exit for the operation log. */
export function describeExit(e: Exit, stderr: string): string {
  const how = e.signal ? `killed by ${e.signal}` : `exit ${e.code}`;
  const last = tail(stderr, 1);
  return last ? `${how}: ${last.slice(0, 200)}` : how;
}

/**
 * Whether `stderr` is one clear CLI usage error: exactly one non-empty line
 * starting `riffle: ` (what exit code 2 must come with).
 */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  return lines.length === 1 && (lines[0] ?? "").startsWith("riffle: ");
}
