/**
 * Files of the chaos fuzzer: reading the committed output file, fingerprints that
 * prove a refused operation changed nothing, backups an operator restores, and a
 * small tmpfs to fill the disk under `--out`.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { ChaosRow } from "./dataset.ts";

/** The output file as lines. */
export interface OutputFile {
  /** Complete lines (each ended by a newline). */
  readonly lines: string[];
  /** Bytes after the last newline (a torn write), if any. */
  readonly torn: string;
}

/** Reads `path` (missing: empty). */
export function readOutput(path: string): OutputFile {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const cut = text.lastIndexOf("\n") + 1;
  const lines = text.slice(0, cut).split("\n");
  lines.pop();
  return { lines, torn: text.slice(cut) };
}

/**
 * Where the output of the last savepoint restore begins in the out file, in bytes
 * (the progress marker's `restoredAt`); undefined before any restore. Read it before
 * the file: the bytes it names were written before it.
 */
export function readRestoredAt(marker: string): number | undefined {
  try {
    const at = (JSON.parse(readFileSync(marker, "utf8")) as { restoredAt?: unknown }).restoredAt;
    return typeof at === "number" ? at : undefined;
  } catch {
    return undefined; // no marker yet (a torn one is the product's to refuse)
  }
}

/** The index of the line that starts at byte `at` of the file whose complete lines are `lines`. */
export function lineAtByte(lines: readonly string[], at: number): number {
  let bytes = 0;
  let i = 0;
  for (; i < lines.length && bytes < at; i++) bytes += Buffer.byteLength(lines[i] as string) + 1;
  return i;
}

/** Parses output lines into rows; unparseable lines are returned as problems. */
export function parseRows(lines: readonly string[], sink: string): { rows: ChaosRow[]; problems: string[] } {
  const rows: ChaosRow[] = [];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    try {
      const v = JSON.parse(line) as { sink?: string; value?: ChaosRow };
      if (v.sink !== sink || typeof v.value?.key !== "string") throw new Error("not a row of the sink");
      rows.push(v.value);
    } catch (e) {
      problems.push(`line ${i + 1} is not a committed row (${(e as Error).message}): ${line.slice(0, 120)}`);
    }
  });
  return { rows, problems };
}

/** Number of leading lines `a` and `b` share. */
export function commonPrefix(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** SHA-256 of each file under `paths` (directories recursively), `absent` for missing ones. */
export function fingerprint(
  paths: readonly string[],
  skip: (name: string) => boolean = () => false,
): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (p: string) => {
    if (!existsSync(p)) {
      out.set(p, "absent");
      return;
    }
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) if (!skip(f)) visit(join(p, f));
      return;
    }
    out.set(p, createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16));
  };
  for (const p of paths) visit(p);
  return out;
}

/** The entries in which two fingerprints differ. */
export function changed(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => `${k} (${a.get(k) ?? "absent"} → ${b.get(k) ?? "absent"})`);
}

/** Copies `paths` (files or directories) into `dir`, replacing what it held. */
export function backup(paths: readonly string[], dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  paths.forEach((p, i) => {
    if (existsSync(p)) cpSync(p, join(dir, String(i)), { recursive: true });
  });
}

/** Puts back what {@link backup} saved of `paths` (a path that was missing is removed). */
export function restoreBackup(paths: readonly string[], dir: string): void {
  paths.forEach((p, i) => {
    rmSync(p, { recursive: true, force: true });
    const saved = join(dir, String(i));
    if (existsSync(saved)) cpSync(saved, p, { recursive: true });
  });
}

/** Directories this process mounted a tmpfs on. */
const mounts = new Set<string>();

/** Mounts a tmpfs of `bytes` at `dir`; false when this machine does not allow it (not root, no mount). */
export function mountTmpfs(dir: string, bytes: number): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) mounts.add(dir);
  return r.status === 0;
}

/** Unmounts `dir` (lazily, so an open file of a killed child cannot block it). */
export function unmount(dir: string): void {
  spawnSync("umount", ["-l", dir]);
  mounts.delete(dir);
}

/** Unmounts every tmpfs this process mounted (when the fuzzer itself is stopped). */
export function unmountAll(): void {
  for (const dir of [...mounts]) unmount(dir);
}

/** Fills the file system of `dir` with `filler` until only about `free` bytes are left. */
export function fillDisk(dir: string, filler: string, free: number): number {
  rmSync(filler, { force: true });
  const s = statfsSync(dir);
  const avail = s.bavail * s.bsize;
  const size = Math.max(0, avail - free);
  try {
    writeFileSync(filler, Buffer.alloc(size));
  } catch (e) {
    // A running job wrote meanwhile: the disk filled up before the filler did, which is the point.
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  }
  const after = statfsSync(dir);
  return after.bavail * after.bsize;
}
