/**
 * One embedded chaos sequence: seeded random operations on `riffle run` with a
 * state dir, then the run to completion with the same flags, then the oracle over
 * the output file.
 */

import { rmSync, writeFileSync } from "node:fs";
import { readDeadLetters, stateDirDlq } from "../../cli/dlq.ts";
import { checkExit, pickOp, reap } from "./embedded-ops.ts";
import { replayDeadLetters } from "./embedded-replay.ts";
import { type EmbeddedConfig, EmbeddedWorld } from "./embedded-world.ts";
import { unmount } from "./files.ts";
import { checkEras, checkFinal, type OracleInput } from "./oracle.ts";
import { deadline, tail, waitExit } from "./proc.ts";
import type { SeedResult } from "./report.ts";

/** Settings of one embedded sequence. */
export type { EmbeddedConfig };

/** Runs one sequence; never throws (a driver error is a violation). */
export async function runEmbeddedSeed(cfg: EmbeddedConfig): Promise<SeedResult> {
  const t0 = performance.now();
  const w = new EmbeddedWorld(cfg);
  if (!w.mounted) w.j.note("embedded: cannot mount a tmpfs here (needs root): disk-full operations skipped");
  try {
    for (let i = 0; i < cfg.ops; i++) {
      await reap(w);
      const op = pickOp(w);
      await op.run(w, w.j.begin(op.name));
    }
    await reap(w);
    await finish(w);
  } catch (error) {
    w.j.violate(`driver error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    w.j.flush();
    w.run?.child.kill("SIGKILL");
    if (w.run) await w.run.child.exited;
    if (w.mounted) unmount(w.outDir);
    if (w.j.violations.length === 0 || !process.env.CHAOS_KEEP) rmSync(cfg.dir, { recursive: true, force: true });
    else w.j.note(`kept ${cfg.dir}`);
  }
  const { ops, violations, notes } = w.j;
  return { seed: cfg.seed, runtime: "embedded", ops, violations, notes, seconds: (performance.now() - t0) / 1000 };
}

/** Lets a running job end, frees the disk, fixes the poison, reruns to completion and checks the output. */
async function finish(w: EmbeddedWorld): Promise<void> {
  if (w.run) {
    const e = w.j.begin("final-wait", "let the running job finish");
    const child = w.run.child;
    const exit = await waitExit(child, deadline(120_000));
    if (!exit) {
      w.j.violate(`the job did not finish within ${deadline(120)} s`, tail(child.stderr(), 6));
      child.kill("SIGKILL");
    }
    checkExit(w, exit ?? (await child.exited), exit ? "natural" : "kill", e);
  }
  rmSync(w.filler, { force: true });
  w.setDiskFull(false);
  writeFileSync(w.marker, "");
  if (!w.hasState) w.startRun(w.p, undefined, undefined);
  else w.startRun(w.p, w.from, undefined);
  const e = w.j.begin("final-run", `to completion, -p ${w.p}${w.from ? ` --from-savepoint ${w.from}` : ""}`);
  const child = w.run?.child;
  if (!child) return;
  await w.settle();
  const replay = w.j.begin("final-replay");
  if (child.exit()) replay.outcome = "not asked: the final run had finished";
  else await replayDeadLetters(w, replay);
  const exit = (await waitExit(child, deadline(120_000))) ?? undefined;
  if (!exit) {
    w.j.violate(`the final run did not finish within ${deadline(120)} s`, tail(child.stderr(), 6));
    child.kill("SIGKILL");
  }
  const stderr = child.stderr();
  checkExit(w, exit ?? (await child.exited), exit ? "natural" : "kill", e);
  if (exit?.code === 0 && !/ finished in /.test(stderr)) w.j.violate("the final run exited 0 but did not finish");
  await verify(w);
}

/** The oracle over the final output file and the dead letters. */
async function verify(w: EmbeddedWorld): Promise<void> {
  const input: OracleInput = {
    expected: w.expected,
    eras: w.oracleEras(w.observe()),
    savepoints: w.savepoints,
    finEnds: true,
  };
  const verdict = checkEras(input);
  for (const v of verdict.violations) w.j.violate(v, w.lastStderr);
  const pending = pendingDeadLetters(w);
  const final = checkFinal(input, verdict, pending);
  for (const v of final.violations) w.j.violate(v, w.lastStderr);
  if (final.pendingKeys > 0)
    w.j.note(`embedded: poison keys left pending as dead letters (their replay was refused or not asked for)`);
}

/** Ids of the records set aside as dead letters and not replayed (what `riffle dlq list` reads). */
function pendingDeadLetters(w: EmbeddedWorld): Set<number> {
  const e = w.j.begin("dlq-list");
  const files = stateDirDlq(w.stateDir);
  const ids = new Set<number>();
  for (const l of readDeadLetters(files.dlq, files.replayed)) {
    const id = (l.value as { id?: unknown } | undefined)?.id;
    if (typeof id === "number" && l.replayedAt === undefined) ids.add(id);
  }
  e.outcome = `${ids.size} pending`;
  return ids;
}
