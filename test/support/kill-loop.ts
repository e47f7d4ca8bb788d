/**
 * The SIGKILL loop of the durable-state tests: start `riffle run <job> --state-dir`,
 * wait until the run holds the state dir, kill it after a random 100–500 ms, and
 * again, until it has been killed `kills` times (or it finished first).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../../core/ml/random.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");

/** What the loop did: how many runs it killed, and how many of those had resumed from the state dir. */
export interface KillLoop {
  readonly kills: number;
  readonly resumed: number;
  /** A run that ended by itself, with its exit code and stderr (undefined: every run was killed). */
  readonly finished?: { readonly code: number | null; readonly stderr: string };
}

/** Runs and kills `riffle run <job> --state-dir <state> --out <out>` as above; `job` names itself in `resuming '<name>'`. */
export async function killRepeatedly(options: {
  readonly job: string;
  readonly jobName: string;
  readonly state: string;
  readonly out: string;
  readonly seed: number;
  readonly kills: number;
  readonly attempts?: number;
}): Promise<KillLoop> {
  const rng = seededRandom(options.seed);
  let kills = 0;
  let resumed = 0;
  for (let attempt = 0; attempt < (options.attempts ?? 12) && kills < options.kills; attempt++) {
    const args = [BIN, "run", options.job, "--state-dir", options.state, "--out", options.out, "--no-progress"];
    const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    let ended = false;
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => {
        ended = true;
        resolve(code);
      }),
    );
    // The delay counts from when the run holds the state dir (a busy machine may take a second to get there).
    const lock = join(options.state, "run.lock");
    const holds = () => existsSync(lock) && readFileSync(lock, "utf8").trim() === String(child.pid);
    while (!ended && !holds()) await new Promise((r) => setTimeout(r, 10));
    const delay = 100 + Math.floor(rng() * 400); // short enough that even a fast machine is killed mid-run
    const winner = await Promise.race([exited, new Promise<"timer">((r) => setTimeout(() => r("timer"), delay))]);
    if (winner !== "timer") return { kills, resumed, finished: { code: winner, stderr } };
    child.kill("SIGKILL");
    await exited;
    kills++;
    if (stderr.includes(`resuming '${options.jobName}'`)) resumed++;
  }
  return { kills, resumed };
}
