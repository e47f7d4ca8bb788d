import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStateDir, StateDirError, stateDirJob } from "../../core/durable/sqlite-db.ts";
import { RiffleError, SegmentConflictError } from "../../core/errors.ts";
import type { Savepoint } from "../../core/ports/checkpoint-store.ts";
import type { Segment } from "../../core/ports/state-store.ts";

const APPENDER = fileURLToPath(new URL("../fixtures/sqlite-appender.ts", import.meta.url));

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "riffle-state-dir-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function seg(n: number, o: Partial<Segment> = {}): Segment {
  return { n, gen: 1, time: n, positions: {}, outSeqs: {}, changes: [], outbox: [], sentThrough: n - 1, ...o };
}

/** Every file of `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
}

function openError(dir: string, create: boolean, job = "j"): StateDirError {
  try {
    openStateDir(dir, { create, job }).close();
  } catch (e) {
    expect(e).toBeInstanceOf(StateDirError);
    expect(e).toBeInstanceOf(RiffleError);
    expect((e as StateDirError).reason).toBe("state-dir");
    expect((e as StateDirError).message).not.toContain("\n");
    return e as StateDirError;
  }
  throw new Error(`opening '${dir}' succeeded`);
}

describe("openStateDir", () => {
  it("fails on a missing dir without create, and creates nothing", () => {
    const dir = join(root, "missing");
    expect(openError(dir, false).message).toBe(`state dir '${dir}' does not exist`);
    expect(() => stateDirJob(dir)).toThrow(StateDirError);
    expect(existsSync(dir)).toBe(false);
  });

  it("fails on a dir without riffle.db without create, and creates nothing", () => {
    const dir = join(root, "bare");
    mkdirSync(dir);
    expect(openError(dir, false).message).toMatch(/^state dir '.*bare' is not a riffle state dir: .*riffle\.db/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("fails on a path that is a file", () => {
    const file = join(root, "file");
    writeFileSync(file, "x");
    expect(openError(file, true).message).toBe(`state dir '${file}' is not a directory`);
    expect(readFileSync(file, "utf8")).toBe("x");
  });

  it("creates a missing (nested) dir and its database with create", () => {
    const dir = join(root, "a", "b");
    const sd = openStateDir(dir, { create: true, job: "j" });
    sd.close();
    sd.close(); // idempotent
    expect(readdirSync(dir)).toContain("riffle.db");
    openStateDir(dir, { create: false, job: "j" }).close();
  });

  it("leaves a riffle.db that is not a SQLite database untouched", () => {
    const dir = join(root, "corrupt");
    mkdirSync(dir);
    const junk = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256));
    writeFileSync(join(dir, "riffle.db"), junk);
    const before = snapshot(dir);
    for (const create of [true, false]) {
      const err = openError(dir, create);
      expect(err.message).toMatch(/^state dir '.*corrupt' is not a riffle state dir: /);
      expect(snapshot(dir)).toEqual(before);
    }
    expect(() => stateDirJob(dir)).toThrow(/is not a riffle state dir/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("leaves another application's SQLite database untouched", () => {
    const dir = join(root, "foreign");
    mkdirSync(dir);
    const db = new DatabaseSync(join(dir, "riffle.db"));
    db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');");
    db.close();
    const before = snapshot(dir);
    for (const create of [true, false]) {
      expect(openError(dir, create).message).toMatch(/^state dir '.*foreign' is not a riffle state dir: /);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  it("refuses an empty riffle.db without create, and initializes it with create", () => {
    const dir = join(root, "empty");
    mkdirSync(dir);
    writeFileSync(join(dir, "riffle.db"), "");
    expect(openError(dir, false).message).toMatch(/is not a riffle state dir: riffle\.db is empty/);
    expect(readFileSync(join(dir, "riffle.db")).length).toBe(0);
    openStateDir(dir, { create: true, job: "j" }).close();
    openStateDir(dir, { create: false, job: "j" }).close();
  });

  it("refuses another job's state dir and changes nothing in it", async () => {
    const dir = join(root, "owned");
    const a = openStateDir(dir, { create: true, job: "a" });
    await a.stateStore.append("t", 0, seg(1, { changes: [{ s: "op/v", k: "x", g: 1, v: "a's" }] }));
    a.close();
    const before = snapshot(dir);
    expect(Object.keys(before)).toEqual(["riffle.db"]);
    expect(stateDirJob(dir)).toBe("a");
    for (const create of [true, false]) {
      expect(openError(dir, create, "b").message).toBe(`state dir '${dir}' belongs to job 'a', not 'b'`);
    }
    expect(snapshot(dir)).toEqual(before);
    const again = openStateDir(dir, { create: false, job: "a" });
    expect(await again.stateStore.getState("t", [{ s: "op/v", k: "x", g: 1 }])).toEqual(["a's"]);
    again.close();
  });

  it("refuses a state dir of another schema version", () => {
    const dir = join(root, "future");
    openStateDir(dir, { create: true, job: "j" }).close();
    const db = new DatabaseSync(join(dir, "riffle.db"));
    db.exec("UPDATE meta SET value = '99' WHERE key = 'schema'");
    db.close();
    expect(openError(dir, true).message).toBe(`state dir '${dir}' has schema version 99; this riffle reads version 1`);
  });

  it("sees every committed write after close and reopen", async () => {
    const dir = join(root, "reopen");
    const w = openStateDir(dir, { create: true, job: "j" });
    for (let n = 1; n <= 4; n++) {
      await w.stateStore.append(
        "t",
        0,
        seg(n, { positions: { "src#0": n }, changes: [{ s: "op/v", k: "a", g: 1, v: n }] }),
      );
    }
    expect(await w.stateStore.compact("t", 0, 2)).toBe(2);
    await w.stateStore.putState("u", [{ s: "op/v", k: "p", g: 3, v: { put: true } }]);
    const job = { job: "j", generation: 2, nextCheckpoint: 4, lastCompleted: 3, parallelism: { t: 1 }, failures: 0 };
    expect(await w.checkpointStore.saveJob(job, undefined)).toBe(true);
    const manifest = {
      job: "j",
      id: 3,
      generation: 2,
      status: "completed" as const,
      triggeredAt: 1,
      parallelism: { t: 1 },
    };
    await w.checkpointStore.putManifest(manifest);
    const ack = { checkpoint: 3, task: "t", partition: 0, segment: 3, alignmentMs: 0, bytes: 0, time: 2 };
    await w.checkpointStore.ack("j", ack);
    await w.checkpointStore.finished("j", { task: "t", partition: 0, segment: 4, generation: 2 });
    const sp: Savepoint = {
      job: "j",
      name: "sp",
      createdAt: 5,
      checkpoint: 3,
      maxParallelism: 128,
      parallelism: { t: 1 },
      values: 1,
      sources: {},
      state: { t: [{ s: "op/v", k: "a", g: 1, v: 3 }] },
    };
    expect(await w.checkpointStore.putSavepoint(sp)).toBe(true);
    const segments = await w.stateStore.readSegments("t", 0, 0);
    const base = await w.stateStore.readBase("t", 0);
    w.close();

    const r = openStateDir(dir, { create: false, job: "j" });
    expect(await r.stateStore.readSegments("t", 0, 0)).toEqual(segments);
    expect(await r.stateStore.readBase("t", 0)).toEqual(base);
    expect(base?.positions).toEqual({ "src#0": 2 });
    expect(
      await r.stateStore.getState("t", [
        { s: "op/v", k: "a", g: 1 },
        { s: "op/v", k: "b", g: 1 },
      ]),
    ).toEqual([4, undefined]);
    expect(await r.stateStore.getState("u", [{ s: "op/v", k: "p", g: 3 }])).toEqual([{ put: true }]);
    await expect(r.stateStore.append("t", 0, seg(4))).rejects.toBeInstanceOf(SegmentConflictError);
    await r.stateStore.append("t", 0, seg(5));
    expect(await r.checkpointStore.loadJob("j")).toEqual(job);
    expect(await r.checkpointStore.getManifest("j", 3)).toEqual(manifest);
    expect(await r.checkpointStore.acks("j", 3)).toEqual([ack]);
    expect(await r.checkpointStore.finishedPartitions("j", 2)).toHaveLength(1);
    expect(await r.checkpointStore.getSavepoint("j", "sp")).toEqual(sp);
    r.close();
  });

  it("lets exactly one of two connections commit a segment", async () => {
    const dir = join(root, "two");
    const a = openStateDir(dir, { create: true, job: "j" });
    const b = openStateDir(dir, { create: true, job: "j" });
    await a.stateStore.append("t", 0, seg(1, { time: 111 }));
    await expect(b.stateStore.append("t", 0, seg(1, { time: 222 }))).rejects.toBeInstanceOf(SegmentConflictError);
    expect((await b.stateStore.readSegments("t", 0, 0)).map((s) => s.time)).toEqual([111]);
    await b.stateStore.append("t", 0, seg(2, { time: 333 }));
    expect((await a.stateStore.readSegments("t", 0, 0)).map((s) => s.time)).toEqual([111, 333]);
    a.close();
    b.close();
  });
});

describe("state dir durability", () => {
  /** Runs the appender from segment `first` and SIGKILLs it after `lines` printed lines. */
  function appendUntilKilled(dir: string, first: number, lines: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [APPENDER, dir, String(first), String(first + 1_000_000)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      let killed = false;
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        if (!killed && out.split("\n").length - 1 >= lines) {
          killed = true;
          child.kill("SIGKILL");
        }
      });
      child.stderr.on("data", (chunk: string) => {
        err += chunk;
      });
      child.on("error", reject);
      child.on("close", (code, signal) => {
        if (signal !== "SIGKILL") {
          reject(new Error(`appender exited with code ${code}, signal ${signal}: ${err}`));
          return;
        }
        const printed = out
          .split("\n")
          .filter((l) => l !== "")
          .map(Number);
        resolve(Math.max(...printed));
      });
    });
  }

  it("keeps every append that resolved before the process was killed with SIGKILL", async () => {
    const dir = join(root, "killed");
    let next = 1;
    for (const lines of [25, 40, 10]) {
      const acknowledged = await appendUntilKilled(dir, next, lines);
      expect(acknowledged).toBeGreaterThanOrEqual(next + lines - 1);

      const sd = openStateDir(dir, { create: false, job: "durability" });
      const segments = await sd.stateStore.readSegments("t", 0, 0);
      expect(segments.length).toBeGreaterThanOrEqual(acknowledged);
      expect(segments.map((s) => s.n)).toEqual(segments.map((_, i) => i + 1)); // gapless
      const last = segments.length;
      const lastSegment = segments[last - 1];
      expect(lastSegment?.positions).toEqual({ "src#0": last });
      expect(lastSegment?.changes).toHaveLength(100);
      expect(await sd.stateStore.getState("t", [{ s: "op/v", k: "k7", g: 7 }])).toEqual([{ n: last, i: 7 }]);
      await expect(sd.stateStore.append("t", 0, seg(last))).rejects.toBeInstanceOf(SegmentConflictError);
      sd.close();
      next = last + 1;
    }
  });
});
