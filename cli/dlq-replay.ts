/**
 * `riffle dlq replay`: sends a state dir's dead letters back into the job that runs
 * in it. The command writes a request file into the state dir (atomically: the
 * letters and the replay time, which fixes the replay's sequence numbers); the
 * `riffle run` holding the dir serves it (`serveReplayRequests`): it replays the
 * letters, waits until a completed checkpoint covers them, marks them replayed
 * durably, and only then answers and removes the request. A run that dies in
 * between leaves the request for the next run, which sends the same envelopes
 * again: what the job had committed is dropped as a duplicate, so every letter
 * is processed once.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lettersToReplay } from "../core/control/replay.ts";
import { stateDirJob } from "../core/durable/sqlite-db.ts";
import { UsageError } from "../core/errors.ts";
import type { OutputStore } from "../core/ports/output-store.ts";
import {
  type EmbeddedRuntime,
  type ReplayDone,
  ReplayError,
  ReplayInterruptedError,
} from "../core/runtime/embedded.ts";
import { readDeadLetters, stateDirDlq } from "./dlq.ts";
import { writeAtomically } from "./output-files.ts";
import { alive, REQUESTS, runningPid } from "./state-dir-lock.ts";

/** A replay request file's content. */
interface ReplayRequest {
  readonly ids: readonly string[];
  /** Replay time (ms): fixes the sequence numbers. */
  readonly now: number;
}

const file = (dir: string, id: string, ext: "replay" | "done" | "error") => join(dir, REQUESTS, `${id}.${ext}`);

/**
 * Replays the dead letters of `job` in state dir `dir` (all not replayed yet, or
 * `ids`) through the `riffle run` that holds the dir; resolves with the exit code.
 */
export async function dlqReplayCommand(job: string, dir: string, ids: string[] | undefined, timeoutMs: number) {
  const owner = stateDirJob(dir);
  if (owner !== job) throw new UsageError(`state dir '${dir}' belongs to job '${owner}', not '${job}'`);
  const paths = stateDirDlq(dir);
  const letters = readDeadLetters(paths.dlq, paths.replayed);
  const unknown = (ids ?? []).find((id) => !letters.some((d) => d.id === id));
  if (unknown) throw new UsageError(`job '${job}' has no dead letter '${unknown}' (see \`riffle dlq list\`)`);
  const chosen = lettersToReplay(letters, ids);
  if (chosen.length === 0) {
    process.stdout.write(`nothing to replay: job '${job}' has ${letters.length} dead letter(s), all replayed\n`);
    return 0;
  }
  const pid = runningPid(dir);
  if (pid === undefined) {
    throw new UsageError(
      `no riffle run holds '${dir}': a replay is served by the running job (start it with --state-dir ${dir})`,
    );
  }
  const now = Date.now();
  const id = `${now}-${process.pid}`;
  mkdirSync(join(dir, REQUESTS), { recursive: true });
  writeAtomically(file(dir, id, "replay"), JSON.stringify({ ids: chosen.map((d) => d.id), now }));
  const done = await awaitAnswer(dir, id, pid, timeoutMs);
  if (typeof done === "string") {
    process.stderr.write(`riffle: ${done}\n`);
    return 1;
  }
  const refused = done.refused.length > 0 ? `; ${done.refused.length} refused: ${done.reason}` : "";
  if (done.replayed.length === 0) throw new ReplayError(`nothing replayed${refused}`);
  process.stdout.write(
    `replayed ${done.replayed.length} dead letter(s) of job '${job}', durable at checkpoint ${done.checkpoint} (pid ${pid})${refused}\n`,
  );
  return 0;
}

/** The answer to request `id`, a refusal (thrown), or why none came (a string). */
async function awaitAnswer(dir: string, id: string, pid: number, timeoutMs: number): Promise<ReplayDone | string> {
  const deadline = Date.now() + timeoutMs;
  for (let last = false; ; ) {
    if (existsSync(file(dir, id, "error"))) {
      const message = readFileSync(file(dir, id, "error"), "utf8");
      rmSync(file(dir, id, "error"), { force: true });
      throw new ReplayError(message);
    }
    if (existsSync(file(dir, id, "done"))) {
      const done = JSON.parse(readFileSync(file(dir, id, "done"), "utf8")) as ReplayDone;
      rmSync(file(dir, id, "done"), { force: true });
      return done;
    }
    if (last) {
      const why = alive(pid) ? `no answer from pid ${pid} within ${timeoutMs} ms` : `the job (pid ${pid}) stopped`;
      return `${why} before the replay was durable; the request stays in ${dir} and the job's next run completes it`;
    }
    // A job that releases the state dir may still be answering: look once more after it has exited.
    if (runningPid(dir) !== pid) while (alive(pid) && Date.now() < deadline) await sleep(50);
    last = !alive(pid) || Date.now() > deadline;
    if (!last) await sleep(100);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What serving replay requests needs from `riffle run`. */
export interface ReplayServing {
  readonly dir: string;
  readonly job: string;
  readonly runtime: EmbeddedRuntime;
  readonly output: OutputStore;
  /** Requests older than this (ms) are refused: this run restored a savepoint, so their letters belong to another history. */
  readonly refuseBefore: number | undefined;
}

/**
 * Serves the oldest replay request in the state dir, one at a time: call it
 * periodically; it returns at once while a request is being served.
 */
export function replayServer(s: ReplayServing): () => void {
  let busy = false;
  return () => {
    if (busy) return;
    const path = join(s.dir, REQUESTS);
    const next = existsSync(path)
      ? readdirSync(path)
          .filter((f) => f.endsWith(".replay"))
          .sort()[0]
      : undefined;
    if (!next) return;
    busy = true;
    void serve(s, next.slice(0, -".replay".length)).finally(() => {
      busy = false;
    });
  };
}

async function serve(s: ReplayServing, id: string): Promise<void> {
  const { dir, job, output } = s;
  try {
    const req = JSON.parse(readFileSync(file(dir, id, "replay"), "utf8")) as ReplayRequest;
    if (s.refuseBefore !== undefined && req.now < s.refuseBefore) {
      throw new ReplayError("the job was restored from a savepoint before the replay completed: replay again");
    }
    const letters = lettersToReplay(await output.deadLetters(job), req.ids);
    const done: ReplayDone =
      letters.length === 0 ? { replayed: [], refused: [], checkpoint: 0 } : await s.runtime.replay(letters, req.now);
    const { marks, ...answered } = done;
    await output.markReplayed(job, done.replayed, req.now, marks);
    answer(dir, id, "done", JSON.stringify(answered));
  } catch (e) {
    // The run ends: the request stays for the next run, which completes it.
    if (e instanceof ReplayInterruptedError) return;
    answer(dir, id, "error", e instanceof Error ? e.message : String(e));
  }
  rmSync(file(dir, id, "replay"), { force: true });
}

/** Answers request `id` (`<time>-<pid>`), unless the `riffle dlq replay` that asked has gone. */
function answer(dir: string, id: string, ext: "done" | "error", text: string): void {
  if (alive(Number(id.split("-")[1]))) writeAtomically(file(dir, id, ext), text);
}
