/**
 * The state of one embedded chaos sequence: the job's files, the flags it last ran
 * with, the running `riffle run` child, and the eras of the output file (a restore
 * starts one where it cut the file). It turns what it observes of the file into
 * oracle input.
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../../core/ml/random.ts";
import { type ChaosRow, generatorExpected, generatorLayout } from "./dataset.ts";
import { jobRecord, stateFingerprint } from "./db-dump.ts";
import {
  changed,
  commonPrefix,
  lineAtByte,
  mountTmpfs,
  type OutputFile,
  parseRows,
  readOutput,
  readRestoredAt,
} from "./files.ts";
import { type EraInput, type EraStart, lastCounts, type SavepointSeen } from "./oracle.ts";
import { type Child, describeExit, type Exit, spawnRiffle, tail } from "./proc.ts";
import { Journal } from "./report.ts";

/** The job file the embedded driver runs. */
export const COUNTER_JOB = "test/fixtures/chaos-counter.ts";
/** Its sink. */
export const SINK = "counts";
/** Size of the tmpfs under `--out`. */
const TMPFS_BYTES = 4 * 1024 * 1024;

/** Settings of one embedded sequence. */
export interface EmbeddedConfig {
  readonly seed: number;
  readonly ops: number;
  /** Base records of the generator. */
  readonly records: number;
  /** Records per 1 ms of sleep in the job (0: full speed). */
  readonly pace: number;
  /** A fresh directory for this sequence. */
  readonly dir: string;
  readonly echo?: (line: string) => void;
}

/** The `riffle run` in the background. */
export interface RunningJob {
  readonly child: Child;
  /** The output file's complete lines when it started. */
  readonly before: readonly string[];
  /** The savepoint it restores, if it was started with a new `--from-savepoint`. */
  readonly restore: string | undefined;
  /** For a restore: the model before it, to go back to if riffle does not restore. */
  readonly prior: Prior | undefined;
  /** Index of its era, once the restore shows in the file. */
  era: number | undefined;
  /** The progress marker's `restoredAt` when it started. */
  readonly restoredAt: number | undefined;
  /** Changes to committed output were reported already. */
  reported: boolean;
  /** The disk under `--out` was full at some time while it ran (an ENOSPC exit may be noticed after the disk is freed). */
  sawFullDisk: boolean;
}

/** The model of a stopped job before a restore run, and its files. */
export interface Prior {
  readonly p: number;
  readonly from: string | undefined;
  readonly fp: ReadonlyMap<string, string>;
  /** {@link EmbeddedWorld.stateOps} when the restore started. */
  readonly stateOps: number;
}

/** One era of the output file: it starts at line `line`. */
export interface Era {
  line: number;
  /**
   * A restore's era whose start the progress marker gave (`restoredAt`): the lines
   * before it, also those the restoring run published first, are the era before's.
   */
  bound?: true;
  readonly start: EraStart;
  readonly label: string;
}

/** See the module comment. */
export class EmbeddedWorld {
  readonly cfg: EmbeddedConfig;
  readonly j: Journal;
  readonly rng: () => number;
  readonly stateDir: string;
  readonly outDir: string;
  readonly out: string;
  readonly marker: string;
  readonly filler: string;
  readonly mounted: boolean;
  readonly expected: Map<string, number[]>;
  /** Parallelism and savepoint of the last run riffle accepted. */
  p: number;
  from: string | undefined;
  /** A run was accepted in the state dir. */
  hasState = false;
  run: RunningJob | undefined;
  readonly eras: Era[] = [{ line: 0, start: { kind: "initial" }, label: "era 0 (first run)" }];
  /** Lines of the output file known committed (all of them after a clean exit). */
  knownCommitted = 0;
  readonly savepoints = new Map<string, SavepointSeen>();
  /** Names a savepoint request may still create (a timed-out request). */
  readonly burned = new Set<string>();
  readonly restored = new Set<string>();
  /** A restore run ended before the file showed its era: what an offline savepoint holds is unclear. */
  pendingRestore = false;
  /** The disk under `--out` is full now; see {@link setDiskFull}. */
  diskFull = false;
  nextName = 1;
  lastStderr = "";
  /** Operations other than `riffle run` that may change the state dir (savepoints, replays) so far. */
  stateOps = 0;
  /** The progress marker's `restoredAt` as last seen. */
  private restoredAt: number | undefined;

  constructor(cfg: EmbeddedConfig) {
    this.cfg = cfg;
    this.j = new Journal(cfg.echo);
    this.rng = seededRandom(cfg.seed * 7919 + 1);
    this.stateDir = join(cfg.dir, "state");
    this.outDir = join(cfg.dir, "outfs");
    this.out = join(this.outDir, "out.jsonl");
    this.marker = join(cfg.dir, "poison-fixed");
    this.filler = join(this.outDir, "filler.bin");
    this.mounted = mountTmpfs(this.outDir, TMPFS_BYTES);
    mkdirSync(this.outDir, { recursive: true });
    this.expected = generatorExpected(generatorLayout(cfg.records));
    this.p = 1 + Math.floor(this.rng() * 3);
  }

  /** A random integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  /** Environment of every `riffle` child. */
  env(): Record<string, string> {
    return { CHAOS_RECORDS: String(this.cfg.records), CHAOS_PACE: String(this.cfg.pace), CHAOS_MARKER: this.marker };
  }

  /** Arguments of `riffle run` at parallelism `p`, from savepoint `from`. */
  runArgs(p: number, from: string | undefined): string[] {
    const args = ["run", COUNTER_JOB, "--state-dir", this.stateDir, "--out", this.out, "-p", String(p)];
    return [...args, "--no-progress", ...(from ? ["--from-savepoint", from] : [])];
  }

  /** Starts `riffle run` in the background. */
  /** Fills or frees the disk under `--out` in the model; a running job is marked as having seen it full. */
  setDiskFull(full: boolean): void {
    this.diskFull = full;
    if (full && this.run) this.run.sawFullDisk = true;
  }

  startRun(p: number, from: string | undefined, restore: string | undefined): void {
    const before = readOutput(this.out).lines;
    const prior =
      restore === undefined
        ? undefined
        : { p: this.p, from: this.from, fp: this.jobFingerprint(), stateOps: this.stateOps };
    const child = spawnRiffle(this.runArgs(p, from), this.env());
    const restoredAt = this.restoredAt;
    this.run = {
      child,
      before,
      restore,
      prior,
      era: undefined,
      reported: false,
      restoredAt,
      sawFullDisk: this.diskFull,
    };
    this.p = p;
    this.from = from;
    this.hasState = true;
  }

  /** Waits (up to 15 s) until the running job holds the state dir's lock, i.e. it is past its start-up. */
  async settle(): Promise<void> {
    const child = this.run?.child;
    const lock = join(this.stateDir, "run.lock");
    for (const end = Date.now() + 15_000; child && !child.exit() && Date.now() < end; ) {
      if (existsSync(lock) && readFileSync(lock, "utf8").trim() === String(child.pid)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Whether the state dir has a database of a job that committed output (to delete or truncate). */
  hasDatabase(): boolean {
    return existsSync(join(this.stateDir, "riffle.db")) && existsSync(join(this.stateDir, "output.json"));
  }

  /**
   * Reads the output file and updates the eras: whatever the running job cut
   * and rewrote starts after line L (the lines it kept). Committed lines must
   * never change.
   */
  observe(): OutputFile {
    const restoredAt = readRestoredAt(join(this.stateDir, "output.json"));
    const f = readOutput(this.out);
    const r = this.run;
    if (!r) return f;
    const kept = commonPrefix(r.before, f.lines);
    if (kept < this.knownCommitted && !r.reported) {
      r.reported = true;
      this.j.violate(
        `committed output changed: line ${kept + 1} of ${this.knownCommitted} committed lines was rewritten or cut`,
      );
    }
    this.eras.forEach((e, i) => {
      if (i !== r.era && e.line > kept) e.line = kept;
    });
    if (r.restore !== undefined) {
      if (r.era === undefined) {
        r.era = this.eras.length;
        const label = `era ${r.era} (restore '${r.restore}' -p ${this.p})`;
        this.eras.push({ line: kept, start: { kind: "restore", savepoint: r.restore }, label });
      } else {
        const era = this.eras[r.era] as Era;
        if (!era.bound) era.line = Math.min(era.line, kept);
      }
    }
    if (restoredAt !== undefined && restoredAt !== this.restoredAt) {
      // The newest restore (this run's, or an unfinished one it finished) shows in the marker.
      this.restoredAt = restoredAt;
      const era = this.eras.findLast((e) => e.start.kind === "restore");
      if (era) [era.line, era.bound] = [lineAtByte(f.lines, restoredAt), true];
    }
    return f;
  }

  /**
   * Records how the running job ended (a clean exit commits every line); returns
   * whether it was a restore that did not happen (the job is as it was).
   */
  ended(exit: Exit): boolean {
    const r = this.run;
    const f = this.observe();
    this.lastStderr = tail(r?.child.stderr() ?? "", 8);
    const undone = r !== undefined && this.restoreUndone(r, exit);
    if (undone) {
      // The job is as it was before the restore run.
    } else if (r?.restore !== undefined) {
      const era = this.eras[r.era ?? -1];
      this.pendingRestore = exit.code !== 0 && !era?.bound;
    } else if (exit.code === 0) this.pendingRestore = false;
    if (exit.code === 0) {
      if (f.torn) this.j.violate(`a torn line after a clean exit: ${JSON.stringify(f.torn.slice(0, 80))}`);
      this.knownCommitted = f.lines.length;
    }
    this.run = undefined;
    return undone;
  }

  /**
   * A restore run that ended without restoring (the job record does
   * not name its savepoint): riffle must have changed nothing (checked when no other
   * operation touched the state dir meanwhile and the run was not killed), and the
   * model goes back to the job as it was. Returns whether it did.
   */
  private restoreUndone(r: RunningJob, exit: Exit): boolean {
    const { prior, restore } = r;
    if (!prior || restore === undefined) return false;
    if (jobRecord(this.stateDir)?.restoredFrom?.savepoint === restore) return false;
    const what = `restore '${restore}' ended with ${describeExit(exit, "")} without restoring`;
    if (exit.signal === null && prior.stateOps === this.stateOps) {
      const diff = changed(prior.fp, this.jobFingerprint());
      if (diff.length > 0) this.j.violate(`${what}, but it changed ${diff.join(", ")}`);
    }
    const era = r.era === undefined ? undefined : this.eras[r.era];
    // Lines it published before restoring are the era before's (a run killed before the restore).
    if (era && this.restoredAt !== r.restoredAt) this.j.violate(`${what}, but the output marker says it restored`);
    else if (era && r.era === this.eras.length - 1) this.eras.pop();
    this.p = prior.p;
    this.from = prior.from;
    this.restored.delete(restore);
    return true;
  }

  /**
   * The job's state for {@link restoreUndone}: the database and the progress marker.
   * Not the output and dead-letter files (any run cuts an uncommitted tail off them:
   * committed lines are checked by {@link observe}), nor requests of other commands.
   */
  private jobFingerprint(): Map<string, string> {
    const fp = stateFingerprint(this.stateDir, []);
    for (const k of [...fp.keys()]) if (/[/\\](dlq\.jsonl|requests)([/\\]|$)/.test(k)) fp.delete(k);
    return fp;
  }

  /** The committed rows of era `e` among `lines`. */
  eraRows(lines: readonly string[], e: number): ChaosRow[] {
    const from = this.eras[e]?.line ?? lines.length;
    const to = this.eras[e + 1]?.line ?? lines.length;
    return parseRows(lines.slice(from, Math.max(from, to)), SINK).rows;
  }

  /** What a savepoint requested now may hold at least: the current era's counts. */
  requestSnapshot(): SavepointSeen {
    const f = this.observe();
    const era = this.eras.length - 1;
    return { era, atRequest: lastCounts(this.eraRows(f.lines, era)) };
  }

  /** The oracle's eras over the file as it is now; unparseable lines are violations. */
  oracleEras(f: OutputFile): EraInput[] {
    const { problems } = parseRows(f.lines, SINK);
    for (const p of problems.slice(0, 3)) this.j.violate(`output file: ${p}`);
    if (f.torn) this.j.violate(`output file ends in a torn line: ${JSON.stringify(f.torn.slice(0, 80))}`);
    return this.eras.map((e, i) => ({ label: e.label, start: e.start, rows: this.eraRows(f.lines, i) }));
  }

  /** A fresh savepoint name. */
  newName(): string {
    return `sp${this.nextName++}`;
  }

  /** Whether the poison is fixed. */
  fixed(): boolean {
    return existsSync(this.marker);
  }
}
