/**
 * Hybrid source: history files, then live ingest, give the same result as one
 * bounded run over their union, and no record appears twice. `riffle dev
 * --state-dir` runs `test/fixtures/hybrid-job.ts` (a running count per user, so a
 * record read twice, skipped or out of order changes the output) over history
 * files and the `events` ingest source; it is SIGKILLed in the history and again
 * just after the switch to the live source, and resumed each time. Live posts
 * overlap the history's end (their `seq` is at or below the boundary): those are
 * dropped. The records committed over all runs (by an exactly-once file sink)
 * equal those of `riffle run` over one file of the union.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type DevProcess, startDev } from "../support/dev-process.ts";

const ROOT = join(import.meta.dirname, "../..");
const JOB = "test/fixtures/hybrid-job.ts";
const KEY = "hybrid-key";
const FILES = 20;
const PER_FILE = 5_000;
const HISTORY = FILES * PER_FILE;
const LAST = HISTORY + 1_000;

const event = (seq: number) => ({ seq, user: `u${seq % 37}` });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
const jsonl = (events: unknown[]) => events.map((e) => `${JSON.stringify(e)}\n`).join("");

interface Out {
  readonly seq: number;
  readonly user: string;
  readonly n: number;
}
/** The records committed into `out` by the job's file sink. */
const committed = (out: string): Out[] =>
  readdirSync(join(out, "done")).flatMap((f) =>
    readFileSync(join(out, "done", f), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Out),
  );

async function until(what: string, ok: () => boolean, ms = 60_000, detail = () => ""): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting until ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function post(dev: DevProcess, events: unknown[]): Promise<void> {
  const r = await fetch(`${dev.url}/jobs/hybrid/sources/events/events`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify(events),
  });
  expect(r.status, await r.text()).toBe(202);
}

describe("hybridSource", () => {
  it("history files then live ingest, killed in the history and after the switch, equals a bounded run over the union", async () => {
    const base = mkdtempSync(join(tmpdir(), "riffle-hybrid-"));
    const history = join(base, "history");
    mkdirSync(history);
    for (let f = 0; f < FILES; f++)
      writeFileSync(
        join(history, `part-${String(f).padStart(2, "0")}.jsonl`),
        jsonl(range(f * PER_FILE + 1, (f + 1) * PER_FILE)),
      );
    const state = join(base, "state");
    const out = join(base, "out");
    const env = { RIFFLE_API_KEYS: KEY, RIFFLE_HYBRID_DIR: history, RIFFLE_HYBRID_OUT: out };
    const all = () => committed(out);

    // Run 1: killed while it reads the history.
    const first = await startDev(JOB, ["--state-dir", state], env);
    await until("part of the history is committed", () => all().length >= 2 * PER_FILE);
    await first.stop("SIGKILL");
    expect(all().length, "the first kill lands in the history").toBeLessThan(HISTORY);

    // Run 2: live records arrive (the first 200 overlap the history's end); killed just after the switch.
    const second = await startDev(JOB, ["--state-dir", state], env);
    expect(second.stderr()).toMatch(/resuming 'hybrid' from checkpoint/);
    await post(second, range(HISTORY - 199, HISTORY + 400));
    await until("the switch to the live source", () => all().some((o) => o.seq > HISTORY));
    await second.stop("SIGKILL");

    // Run 3: more live records, again overlapping; it ends with every record.
    const third = await startDev(JOB, ["--state-dir", state], env);
    await post(
      third,
      range(HISTORY - 50, LAST).filter((e) => e.seq <= HISTORY || e.seq > HISTORY + 400),
    );
    const missing = () => {
      const seen = new Set(all().map((o) => o.seq));
      const gone = range(1, LAST).filter((e) => !seen.has(e.seq));
      return `: ${all().length} printed, ${gone.length} missing, from ${gone.slice(0, 5).map((e) => e.seq)}\n${third.stderr()}`;
    };
    await until("every record is committed", () => all().length >= LAST, 60_000, missing);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would show now
    await third.stop("SIGTERM");

    // The bounded run over the union: one file of every record, in order.
    const union = join(base, "union");
    mkdirSync(union);
    writeFileSync(join(union, "all.jsonl"), jsonl(range(1, LAST)));
    const bounded = spawnSync(process.execPath, ["bin/riffle.js", "run", JOB, "--no-progress"], {
      cwd: ROOT,
      env: {
        ...process.env,
        RIFFLE_HYBRID_DIR: union,
        RIFFLE_HYBRID_BOUNDED: "1",
        RIFFLE_HYBRID_OUT: join(base, "bounded"),
      },
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    expect(bounded.status, bounded.stderr).toBe(0);
    const expected = committed(join(base, "bounded"));
    const bySeq = (a: Out, b: Out) => a.seq - b.seq;
    const got = all().sort(bySeq);
    expect(new Set(got.map((o) => o.seq)).size, "no record appears twice").toBe(got.length);
    expect(expected).toHaveLength(LAST);
    expect(got).toEqual(expected.sort(bySeq));
  }, 240_000);
});
