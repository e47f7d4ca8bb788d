/**
 * What an operator does to an embedded job, as the chaos driver's operations:
 * start, rerun with the same flags, restore (and rescale) from a savepoint, let it
 * run, SIGKILL, SIGTERM, take savepoints (and reuse a taken name), poison fixes and
 * dead-letter replays. The file-system faults live in `embedded-faults.ts`.
 */

import { rmSync, writeFileSync } from "node:fs";
import { stateFingerprint } from "./db-dump.ts";
import {
  type ChaosOp,
  dbDelete,
  dbTruncate,
  diskFill,
  diskFree,
  unknownSavepoint,
  wrongParallelism,
} from "./embedded-faults.ts";
import { replayDeadLetters } from "./embedded-replay.ts";
import { COUNTER_JOB, type EmbeddedWorld } from "./embedded-world.ts";
import { changed } from "./files.ts";
import { deadline, describeExit, type Exit, isOneLineError, runRiffle, tail, waitExit } from "./proc.ts";
import type { OpEntry } from "./report.ts";

/** How long a graceful stop may take. */
const STOP_MS = 30_000;

/** Checks how a run ended (`how`: what the driver did to it) and records it. */
export function checkExit(w: EmbeddedWorld, exit: Exit, how: "natural" | "term" | "kill", e: OpEntry): void {
  const stderr = w.run?.child.stderr() ?? "";
  // The exit may be noticed only after the disk was freed (seed 10: it failed at once, the driver saw it later).
  const full = w.diskFull || w.run?.sawFullDisk === true;
  const undone = w.ended(exit);
  e.outcome = describeExit(exit, stderr);
  // A restore refused in one line that changed nothing (checked by `ended`), e.g. while another is unfinished.
  if (undone && exit.code === 2 && isOneLineError(stderr)) return;
  if (how === "kill" && exit.signal === "SIGKILL") return;
  if (how === "term" && exit.signal === "SIGTERM") {
    w.j.note("embedded: a SIGTERM while riffle was still starting killed it (no handler yet); counted as a kill");
    return;
  }
  if (exit.code === 0) return;
  if (exit.code === 1 && full && /ENOSPC|no space/i.test(stderr)) return;
  w.j.violate(
    `the run ${how === "natural" ? "ended" : `stopped by ${how}`} with ${describeExit(exit, "")}`,
    tail(stderr, 6),
  );
}

/** If the running job exited on its own, records it. */
export async function reap(w: EmbeddedWorld): Promise<void> {
  const exit = w.run?.child.exit();
  if (!exit) return;
  checkExit(w, exit, "natural", w.j.begin("exited", "(on its own)"));
}

const start: ChaosOp = {
  name: "start",
  weight: (w) => (w.run ? 0 : w.hasState ? 3 : 12),
  async run(w, e) {
    const same = w.hasState;
    w.startRun(w.p, w.from, undefined);
    e.detail = `${same ? "rerun with the same flags" : "first run"}: -p ${w.p}${w.from ? ` --from-savepoint ${w.from}` : ""}`;
    e.outcome = await up(w);
  },
};

const restore: ChaosOp = {
  name: "restore",
  weight: (w) => (!w.run && candidates(w).length > 0 ? 6 : 0),
  async run(w, e) {
    const all = candidates(w);
    const name = all[w.int(0, all.length - 1)] as string;
    const p = w.int(1, 3);
    w.restored.add(name);
    e.detail = `--from-savepoint ${name} -p ${p}${p !== w.p ? ` (rescale from ${w.p})` : ""}`;
    w.startRun(p, name, name);
    e.outcome = await up(w);
  },
};

/** Most of the time, waits until the job is past its start-up (so that a kill lands mid-run). */
async function up(w: EmbeddedWorld): Promise<string> {
  if (w.rng() < 0.2) return "started";
  await w.settle();
  return "started and running";
}

function candidates(w: EmbeddedWorld): string[] {
  return [...w.savepoints.keys()].filter((n) => !w.restored.has(n) && !w.burned.has(n));
}

const wait: ChaosOp = {
  name: "wait",
  weight: (w) => (w.run ? 3 : 0),
  async run(w, e) {
    const ms = w.int(200, 2500);
    e.detail = `${ms} ms`;
    const exit = w.run ? await waitExit(w.run.child, ms) : undefined;
    if (exit) checkExit(w, exit, "natural", e);
    else e.outcome = "still running";
  },
};

const kill: ChaosOp = {
  name: "kill",
  weight: (w) => (w.run ? 3 : 0),
  async run(w, e) {
    const child = w.run?.child;
    if (!child) return;
    child.kill("SIGKILL");
    checkExit(w, await child.exited, "kill", e);
  },
};

const term: ChaosOp = {
  name: "term",
  weight: (w) => (w.run ? 2 : 0),
  async run(w, e) {
    const child = w.run?.child;
    if (!child) return;
    child.kill("SIGTERM");
    let exit = await waitExit(child, deadline(STOP_MS));
    if (!exit) {
      w.j.violate(`SIGTERM did not stop the run within ${deadline(STOP_MS)} ms`, tail(child.stderr(), 6));
      child.kill("SIGKILL");
      exit = await child.exited;
    }
    checkExit(w, exit, "term", e);
  },
};

const savepoint: ChaosOp = {
  name: "savepoint",
  weight: (w) => (w.hasState && !(w.pendingRestore && !w.run) ? 3 : 0),
  async run(w, e) {
    const name = w.newName();
    const running = w.run !== undefined;
    e.detail = `${name} (${running ? "job running" : "job stopped"})`;
    const snap = w.requestSnapshot();
    w.stateOps++;
    const r = await runRiffle(savepointArgs(w, name), w.env(), 45_000);
    e.outcome = describeExit(r, r.stderr || r.stdout);
    if (r.code === 0) {
      // Taken offline while a restore run was starting: its state may predate the restore.
      if (w.run?.restore !== undefined && /taken from checkpoint/.test(r.stdout)) w.burned.add(name);
      else w.savepoints.set(name, snap);
    } else if (r.code === 2 && isOneLineError(r.stderr)) {
      if (/within/.test(r.stderr)) w.burned.add(name); // the request may still be served later
    } else {
      w.burned.add(name);
      w.j.violate(`riffle savepoint ${name}: ${describeExit(r, "")}`, tail(r.stderr, 6));
    }
  },
};

function savepointArgs(w: EmbeddedWorld, name: string): string[] {
  return ["savepoint", COUNTER_JOB, "--state-dir", w.stateDir, "--name", name, "--timeout", "15"];
}

const reuse: ChaosOp = {
  name: "savepoint-reuse",
  weight: (w) => (w.savepoints.size > 0 ? 1.5 : 0),
  async run(w, e) {
    const names = [...w.savepoints.keys()];
    const name = names[w.int(0, names.length - 1)] as string;
    e.detail = `${name} again (${w.run ? "job running" : "job stopped"})`;
    const fp = w.run ? undefined : stateFingerprint(w.stateDir, [w.out]);
    const r = await runRiffle(savepointArgs(w, name), w.env(), 45_000);
    e.outcome = describeExit(r, r.stderr || r.stdout);
    if (r.code !== 2 || !isOneLineError(r.stderr) || !/already has a savepoint named/.test(r.stderr)) {
      w.j.violate(
        `reusing savepoint name '${name}' was not refused with one clear line and exit 2: ${describeExit(r, r.stderr || r.stdout)}`,
      );
    }
    const diff = fp ? changed(fp, stateFingerprint(w.stateDir, [w.out])) : [];
    if (diff.length > 0) w.j.violate(`refused savepoint '${name}' changed files: ${diff.join(", ")}`);
  },
};

const poisonFix: ChaosOp = {
  name: "poison-fix",
  weight: (w) => (w.fixed() ? 0 : 1),
  async run(w, e) {
    writeFileSync(w.marker, "");
    e.outcome = "poison records now succeed";
  },
};

const poisonBreak: ChaosOp = {
  name: "poison-break",
  weight: (w) => (w.fixed() ? 0.6 : 0),
  async run(w, e) {
    rmSync(w.marker, { force: true });
    e.outcome = "poison records fail again";
  },
};

const replay: ChaosOp = {
  name: "dlq-replay",
  weight: (w) => (w.hasState ? 1.5 : 0),
  run: replayDeadLetters,
};

/** Every operation of the embedded driver. */
export const EMBEDDED_OPS: readonly ChaosOp[] = [
  start,
  restore,
  unknownSavepoint,
  wrongParallelism,
  wait,
  kill,
  term,
  savepoint,
  reuse,
  dbDelete,
  dbTruncate,
  diskFill,
  diskFree,
  poisonFix,
  poisonBreak,
  replay,
];

/** Picks an operation by weight. */
export function pickOp(w: EmbeddedWorld): ChaosOp {
  const weighted = EMBEDDED_OPS.map((op) => [op, op.weight(w)] as const).filter(([, x]) => x > 0);
  let r = w.rng() * weighted.reduce((a, [, x]) => a + x, 0);
  for (const [op, x] of weighted) {
    r -= x;
    if (r < 0) return op;
  }
  return (weighted.at(-1) as readonly [ChaosOp, number])[0];
}
