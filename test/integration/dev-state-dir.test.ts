/**
 * `riffle dev --state-dir`: a killed `riffle dev` started again on the same dir
 * resumes from its last checkpoint, keeps what its HTTP API had accepted (the ingest
 * log is in the dir too), and prints each committed record once over both runs;
 * `--from-savepoint` starts from a savepoint taken over the API.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type DevProcess, startDev as startDevProcess } from "../support/dev-process.ts";

const ROOT = join(import.meta.dirname, "../..");
const KEY = "dev-state-key";

const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

interface Dev extends DevProcess {
  readonly lines: () => string[];
}

async function startDev(args: string[]): Promise<Dev> {
  const dev = await startDevProcess("examples/clicks.ts", args, { RIFFLE_API_KEYS: KEY });
  return { ...dev, lines: () => dev.stdout().split("\n").filter(Boolean) };
}

async function post(dev: Dev, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${dev.url}${path}`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

const click = (user: string, ts: number) => ({ user, page: "/a", ts });

const stop = (dev: Dev, signal: NodeJS.Signals): Promise<number | null> => dev.stop(signal);

describe("riffle dev --state-dir", () => {
  it("resumes after SIGKILL with its state and accepted input, printing each record once", async () => {
    const state = join(mkdtempSync(join(tmpdir(), "riffle-dev-")), "state");
    const first = await startDev(["--state-dir", state]);
    const accepted = await post(first, "/jobs/clicks/sources/clicks/events?key=ada", [
      click("ada", 1),
      click("ada", 2),
    ]);
    expect(accepted).toMatchObject({ status: 202, json: { accepted: 2, first: 1, last: 2 } });
    await until("the first records to commit", () => first.lines().length === 2);
    // Accepted after the last print: these may not be committed when the kill lands.
    await post(first, "/jobs/clicks/sources/clicks/events?key=ada", [click("ada", 3)]);
    await stop(first, "SIGKILL");

    const second = await startDev(["--state-dir", state]);
    expect(second.stderr()).toMatch(/resuming 'clicks' from checkpoint \d+/);
    const more = await post(second, "/jobs/clicks/sources/clicks/events?key=ada", [click("ada", 4)]);
    expect(more).toMatchObject({ status: 202, json: { first: 4, last: 4 } }); // the ingest log kept seqs 1-3
    const all = () => [...first.lines(), ...second.lines()].map((l) => JSON.parse(l).value.n as number);
    await until("all four clicks to commit", () => all().length === 4);
    expect(all()).toEqual([1, 2, 3, 4]);

    const sp = await post(second, "/jobs/clicks/savepoints", { name: "after-four" });
    expect(sp.status).toBe(201);
    expect(await stop(second, "SIGTERM")).toBe(0);

    // A fresh dir started from that savepoint is refused (it has no such savepoint); the same dir restores it.
    const other = join(mkdtempSync(join(tmpdir(), "riffle-dev-")), "state");
    const refused = spawn(
      process.execPath,
      [
        "bin/riffle.js",
        "dev",
        "examples/clicks.ts",
        "--port",
        "0",
        "--state-dir",
        other,
        "--from-savepoint",
        "after-four",
      ],
      { cwd: ROOT, env: { ...process.env, RIFFLE_API_KEYS: KEY } },
    );
    let refusal = "";
    refused.stderr?.on("data", (d) => {
      refusal += d;
    });
    const code = await new Promise<number | null>((resolve) => refused.once("exit", resolve));
    expect(code).toBe(2);
    expect(refusal).toBe("riffle: job 'clicks' has no savepoint named 'after-four' (it has none)\n");

    const third = await startDev(["--state-dir", state, "--from-savepoint", "after-four"]);
    await post(third, "/jobs/clicks/sources/clicks/events?key=ada", [click("ada", 5)]);
    await until("the click after the restore to commit", () => third.lines().length > 0);
    expect(third.lines().map((l) => JSON.parse(l).value)).toContainEqual({ user: "ada", n: 5 });
    expect(await stop(third, "SIGTERM")).toBe(0);
  }, 120_000);
});
