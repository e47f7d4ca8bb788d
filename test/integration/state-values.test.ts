/**
 * State values are checked when written: a value a JSON round trip would change
 * fails the job at once with a typed error naming the operator, the state and the
 * value's type (no retry, no restart, no dead letter). With the `rich` codec the
 * same values are accepted and come back as they were after SIGKILLs of a
 * `riffle run --state-dir`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { StateValueError } from "../../core/errors.ts";
import { EmbeddedRuntime, JobFailedError } from "../../core/runtime/embedded.ts";
import { COUNT, KEYS } from "../fixtures/rich-state-job.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/rich-state-job.ts";

/** A job whose keyed process writes `bad(i)` into value state on record 5. */
function writing(bad: (i: number) => unknown) {
  return defineJob("writes-state", (env) => {
    env
      .fromElements([1, 2, 3, 4, 5, 6, 7, 8])
      .keyBy((n) => n % 2)
      .process({
        state: { latest: valueState<unknown>() },
        processElement(n, ctx) {
          ctx.state.latest.update(n === 5 ? bad(n) : n);
          ctx.emit(n);
        },
      })
      .uid("latest-writer")
      .sinkTo("out");
  });
}

async function failure(job: ReturnType<typeof writing>) {
  const rt = new EmbeddedRuntime(job, {});
  const error = await rt.run().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { rt, error };
}

describe("state values are checked when written", () => {
  for (const [what, value, type] of [
    ["a Map", (i: number) => new Map([["n", i]]), "a Map"],
    ["a BigInt", (i: number) => BigInt(i), "a bigint"],
  ] as const) {
    it(`${what} in value state fails the job at once, naming operator, state and type`, async () => {
      const { rt, error } = await failure(writing(value));
      expect(error).toBeInstanceOf(JobFailedError);
      const cause = (error as JobFailedError).cause;
      expect(cause).toBeInstanceOf(StateValueError);
      const e = cause as StateValueError;
      expect([e.operator, e.state, e.valueType]).toEqual(["latest-writer", "latest", type]);
      expect(e.message).toContain(`operator 'latest-writer' wrote ${type} to state 'latest'`);
      expect(e.message).not.toContain("\n");
      expect(rt.restarts).toBe(0); // no restart
      expect(rt.deadLetters).toEqual([]); // no dead letter
      expect(rt.queueDeadLetters()).toEqual([]);
    });
  }

  it("refuses what JSON changes anywhere in a value: NaN, undefined in an array, class instances, cycles", async () => {
    const cyclic: Record<string, unknown> = {};
    let deep: Record<string, unknown> = cyclic;
    for (let i = 0; i < 100; i++) {
      const next: Record<string, unknown> = {};
      deep.next = next;
      deep = next;
    }
    deep.next = cyclic;
    const cases: [unknown, string][] = [
      [{ a: [1, Number.NaN] }, "NaN"],
      [{ a: [1, undefined] }, "undefined in an array"],
      [{ when: new Date(0) }, "a Date"],
      [{ s: new Set([1]) }, "a Set"],
      [new (class Point {})(), "a Point"],
      [{ f: () => 1 }, "a function"],
      [cyclic, "a cyclic value"],
    ];
    for (const [bad, type] of cases) {
      const { error } = await failure(writing(() => bad));
      expect((error as JobFailedError).cause, type).toMatchObject({ valueType: type, state: "latest" });
    }
  });

  it("accepts plain JSON, with absent (undefined) object properties", async () => {
    const { error } = await failure(writing((i) => ({ i, nested: [{ a: "x", b: null, c: undefined }] })));
    expect(error).toBeUndefined();
  });
});

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

/** What the rich-state job must commit: one summary per key. */
function oracle(): string[] {
  const rows = [];
  for (let k = 0; k < KEYS; k++) {
    const buckets: Record<string, number> = {};
    let total = 0n;
    const seen = new Set<number>();
    for (let i = k; i < COUNT; i += KEYS) {
      buckets[`b${i % 5}`] = (buckets[`b${i % 5}`] ?? 0) + 1;
      total += BigInt(i) * 1_000_000_007n;
      seen.add(i % 11);
    }
    const sorted = Object.fromEntries(Object.entries(buckets).sort(([a], [b]) => (a < b ? -1 : 1)));
    const value = {
      k: `k${k}`,
      buckets: sorted,
      total: total.toString(),
      first: new Date(k).toISOString(),
      seen: [...seen].sort((a, b) => a - b),
    };
    rows.push(JSON.stringify({ sink: "summary", value }));
  }
  return rows.sort();
}

describe("the rich state codec", () => {
  it("gives Map, bigint, Date and Set back after SIGKILLs of riffle run --state-dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-rich-"));
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    const args = [BIN, "run", JOB, "--state-dir", state, "--out", out, "--no-progress"];
    let kills = 0;
    for (let attempt = 0; attempt < 8 && kills < 2; attempt++) {
      const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT });
      let ended = false;
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => {
          ended = true;
          resolve(code);
        }),
      );
      const lock = join(state, "run.lock");
      const holds = () => existsSync(lock) && readFileSync(lock, "utf8").trim() === String(child.pid);
      while (!ended && !holds()) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 150 + attempt * 100));
      if (!ended) {
        child.kill("SIGKILL");
        kills++;
      }
      await exited;
    }
    expect(kills).toBeGreaterThan(0);
    const last = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(last.status, last.stderr).toBe(0);
    expect(last.stderr).toContain("resuming 'rich-state'");
    expect(lines(out).sort()).toEqual(oracle());
  }, 180_000);
});
