/**
 * Operations that must be refused, and file-system faults: a rerun at another
 * parallelism, a deleted or zero-length `riffle.db` (refused with one line and
 * exit 2, nothing changed; then the operator puts the backup back), and a full
 * disk under `--out` (a tmpfs filled to a few bytes).
 */

import { closeSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stateFingerprint } from "./db-dump.ts";
import type { EmbeddedWorld } from "./embedded-world.ts";
import { backup, changed, fillDisk, restoreBackup } from "./files.ts";
import { describeExit, isOneLineError, runRiffle, tail } from "./proc.ts";
import type { OpEntry } from "./report.ts";

/** One kind of operation of a driver. */
export interface ChaosOp {
  readonly name: string;
  /** How likely it is now (0: not possible). */
  readonly weight: (w: EmbeddedWorld) => number;
  readonly run: (w: EmbeddedWorld, e: OpEntry) => Promise<void>;
}

const DB_FILES = ["riffle.db", "riffle.db-wal", "riffle.db-shm"];

/**
 * Runs `riffle run` with `args` after `mutate()`, expecting a one-line refusal
 * (exit 2) matching `reason` that changes nothing; then puts every file back as
 * it was before `mutate()`.
 */
async function expectRefusal(
  w: EmbeddedWorld,
  e: OpEntry,
  args: string[],
  reason: RegExp,
  mutate: () => void = () => {},
): Promise<void> {
  const saved = join(w.cfg.dir, "backup");
  const paths = [w.stateDir, w.out];
  backup(paths, saved);
  mutate();
  const before = stateFingerprint(w.stateDir, [w.out]);
  const r = await runRiffle(args, w.env(), 60_000);
  const after = stateFingerprint(w.stateDir, [w.out]);
  e.outcome = r.timedOut ? "still running after 60 s (killed)" : describeExit(r, r.stderr);
  const what = `${e.op} (${e.detail})`;
  if (r.code !== 2 || !isOneLineError(r.stderr) || !reason.test(r.stderr)) {
    w.j.violate(
      `${what} was not refused with one clear line (${reason}) and exit 2: ${r.timedOut ? "it ran" : describeExit(r, "")}`,
      tail(r.stderr, 4),
    );
  }
  const diff = changed(before, after);
  if (diff.length > 0) w.j.violate(`${what}: the refused run changed ${diff.join(", ")}`);
  restoreBackup(paths, saved);
  rmSync(saved, { recursive: true, force: true });
}

/** A rerun at another parallelism without a savepoint: refused. */
export const wrongParallelism: ChaosOp = {
  name: "wrong-p",
  weight: (w) => (!w.run && (w.knownCommitted > 0 || w.savepoints.size > 0) ? 1 : 0),
  async run(w, e) {
    const p = w.p === 1 ? 2 : w.p - 1;
    e.detail = `-p ${p} (state at -p ${w.p})`;
    await expectRefusal(w, e, w.runArgs(p, undefined), /parallelism/);
  },
};

/** A restore from a savepoint the job does not have: refused. */
export const unknownSavepoint: ChaosOp = {
  name: "restore-unknown",
  weight: (w) => (!w.run && w.hasDatabase() ? 0.7 : 0),
  async run(w, e) {
    const name = `nosuch${w.nextName++}`;
    e.detail = `--from-savepoint ${name}`;
    await expectRefusal(w, e, w.runArgs(w.p, name), /no savepoint named/);
  },
};

function dbOp(name: string, mutate: (w: EmbeddedWorld) => void): ChaosOp {
  return {
    name,
    weight: (w) => (!w.run && w.hasDatabase() ? 1 : 0),
    async run(w, e) {
      e.detail = `then rerun -p ${w.p}${w.from ? ` --from-savepoint ${w.from}` : ""}, then restore the backup`;
      await expectRefusal(w, e, w.runArgs(w.p, w.from), /riffle\.db/, () => mutate(w));
    },
  };
}

/** `riffle.db` deleted while the job is stopped. */
export const dbDelete = dbOp("db-delete", (w) => {
  for (const f of DB_FILES) rmSync(join(w.stateDir, f), { force: true });
});

/** `riffle.db` truncated to zero length while the job is stopped. */
export const dbTruncate = dbOp("db-truncate", (w) => {
  for (const f of DB_FILES.slice(1)) rmSync(join(w.stateDir, f), { force: true });
  closeSync(openSync(join(w.stateDir, DB_FILES[0] as string), "w"));
});

/** Fills the tmpfs under `--out` to a few bytes. */
export const diskFill: ChaosOp = {
  name: "disk-fill",
  weight: (w) => (w.mounted && !w.diskFull ? 1 : 0),
  async run(w, e) {
    const free = w.int(0, 2) * 4096;
    const left = fillDisk(w.outDir, w.filler, free);
    w.setDiskFull(true);
    e.detail = `leave ${free / 4096} page(s)`;
    e.outcome = `${left} bytes free under --out`;
  },
};

/** Frees the disk under `--out`. */
export const diskFree: ChaosOp = {
  name: "disk-free",
  weight: (w) => (w.diskFull ? 1.5 : 0),
  async run(w, e) {
    rmSync(w.filler, { force: true });
    w.setDiskFull(false);
    e.outcome = "filler removed";
  },
};
