/**
 * Coordination between `riffle` processes sharing a state dir: the running job
 * holds a lock file with its pid; `riffle savepoint` drops request files that the
 * running job picks up.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";

const LOCK = "run.lock";
/** Where other `riffle` processes leave requests for the running job. */
export const REQUESTS = "requests";

/**
 * Refuses a state dir whose `output.json` says the job committed output while its
 * `riffle.db` is missing or empty (deleted or truncated): run on, it would start the
 * job over and publish everything again. Checked before the dir is opened, so the
 * refusal creates and changes nothing.
 */
export function checkStateIntact(dir: string, job: string): void {
  const marker = join(dir, "output.json");
  if (!existsSync(marker)) return;
  let committed = false;
  try {
    const p = JSON.parse(readFileSync(marker, "utf8")) as { cut?: object; outBytes?: number; dlqBytes?: number };
    // Marks, or committed bytes: a savepoint restore resets the marks, not the files.
    committed = Object.keys(p.cut ?? {}).length > 0 || (p.outBytes ?? 0) > 0 || (p.dlqBytes ?? 0) > 0;
  } catch {
    return; // a damaged marker is reported, with its path, by the output store
  }
  const db = join(dir, "riffle.db");
  const size = existsSync(db) ? statSync(db).size : undefined;
  if (!committed || (size !== undefined && size > 0)) return;
  throw new UsageError(
    `state dir '${dir}' has committed output of job '${job}' (${marker}) but its riffle.db is ${size === undefined ? "missing" : "empty"}: ` +
      "restore riffle.db from a backup, or delete output.json and the --out file to start over",
  );
}

/** The pid of the live process running the job in `dir`, if any. */
export function runningPid(dir: string): number | undefined {
  const path = join(dir, LOCK);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return alive(pid) ? pid : undefined; // else a stale lock of a dead process
}

/** Whether process `pid` is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the run lock of `dir`; throws when another live process holds it. Returns a release function. */
export function lockStateDir(dir: string): () => void {
  const holder = runningPid(dir);
  if (holder !== undefined && holder !== process.pid) {
    throw new UsageError(`state dir '${dir}' is in use by a running riffle (pid ${holder})`);
  }
  writeFileSync(join(dir, LOCK), String(process.pid));
  return () => rmSync(join(dir, LOCK), { force: true });
}

/** Asks the job running in `dir` for a savepoint named `name`. */
export function requestSavepoint(dir: string, name: string): void {
  mkdirSync(join(dir, REQUESTS), { recursive: true });
  rmSync(join(dir, REQUESTS, `${name}.error`), { force: true });
  writeFileSync(join(dir, REQUESTS, `${name}.savepoint`), "");
}

/** Takes back the request for savepoint `name` (its job stopped before it took it). */
export function withdrawSavepointRequest(dir: string, name: string): void {
  rmSync(join(dir, REQUESTS, `${name}.savepoint`), { force: true });
}

/** Savepoint names requested in `dir`, removing the requests. */
export function takeSavepointRequests(dir: string): string[] {
  const path = join(dir, REQUESTS);
  if (!existsSync(path)) return [];
  const names: string[] = [];
  for (const f of readdirSync(path)) {
    if (!f.endsWith(".savepoint")) continue;
    rmSync(join(path, f), { force: true });
    names.push(f.slice(0, -".savepoint".length));
  }
  return names;
}

/** Records why a requested savepoint failed, for the requester to report. */
export function failSavepointRequest(dir: string, name: string, message: string): void {
  mkdirSync(join(dir, REQUESTS), { recursive: true });
  writeFileSync(join(dir, REQUESTS, `${name}.error`), message);
}

/** The failure of a requested savepoint, if the running job reported one. */
export function savepointRequestError(dir: string, name: string): string | undefined {
  const path = join(dir, REQUESTS, `${name}.error`);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}
