/**
 * Ingest on the embedded runtime (what `riffle dev` runs): records posted over real
 * HTTP reach a keyed job through the ingest log, parked source partitions wake on
 * each append, committed output equals the oracle, a poison record is
 * dead-lettered while the job goes on, then replayed after the fix, and a savepoint
 * taken over HTTP is restored over HTTP while the job runs.
 */

import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedJobControl } from "../../core/control/embedded-control.ts";
import { InMemoryIngestLog } from "../../core/memory/in-memory-ingest-log.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import clicks, { faults } from "../../examples/clicks.ts";
import { createHttpApi } from "../../functions/http/api.ts";
import { type LocalHttpServer, serveHttp } from "../../functions/local/http-server.ts";

const KEY = "test-key";

interface Running {
  runtime: EmbeddedRuntime;
  control: EmbeddedJobControl;
  server: LocalHttpServer;
  output: { user: string; n: number }[];
  stop: () => Promise<void>;
}

async function start(): Promise<Running> {
  const ingest = new InMemoryIngestLog();
  const abort = new AbortController();
  const output: { user: string; n: number }[] = [];
  const runtime = new EmbeddedRuntime(clicks, {
    ingest,
    parallelism: 2,
    signal: abort.signal,
    idleSleepMs: 5,
    onOutput: (_sink, values) => output.push(...(values as { user: string; n: number }[])),
  });
  const control = new EmbeddedJobControl(runtime, ingest);
  const server = await serveHttp(
    createHttpApi({ jobs: (j) => (j === "clicks" ? control : undefined), credentials: [KEY] }),
  );
  const running = runtime.run();
  return {
    runtime,
    control,
    server,
    output,
    stop: async () => {
      abort.abort();
      await running;
      await server.close();
    },
  };
}

async function post(r: Running, body: unknown, key = KEY): Promise<Response> {
  return fetch(`${r.server.url}/jobs/clicks/sources/clicks/events`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify(body),
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Per user, the committed counts must be exactly 1..n: a duplicate or a loss shows. */
function expectCounts(output: readonly { user: string; n: number }[], expected: Record<string, number>): void {
  const by: Record<string, number[]> = {};
  for (const o of output) {
    by[o.user] = [...(by[o.user] ?? []), o.n];
  }
  const want = Object.fromEntries(
    Object.entries(expected).map(([u, n]) => [u, Array.from({ length: n }, (_, i) => i + 1)]),
  );
  expect(Object.fromEntries(Object.entries(by).map(([u, ns]) => [u, ns.sort((a, b) => a - b)]))).toEqual(want);
}

let running: Running | undefined;
afterEach(async () => {
  faults.poisonFixed = false;
  await running?.stop();
  running = undefined;
});

describe("ingest on the embedded runtime", () => {
  it("commits every accepted record exactly once, across many requests and partitions", async () => {
    running = await start();
    const r = running;
    const users = ["ada", "bob", "cy", "dee", "eve"];
    const expected: Record<string, number> = {};
    for (let req = 0; req < 20; req++) {
      const batch = Array.from({ length: 7 }, (_, i) => {
        const user = users[(req * 7 + i) % users.length] as string;
        expected[user] = (expected[user] ?? 0) + 1;
        return { user, page: `/p/${i}`, ts: req * 100 + i };
      });
      const res = await post(r, batch);
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number };
      expect(body.accepted).toBe(7);
    }
    await until("140 committed records", () => r.output.length >= 140);
    expectCounts(r.output, expected);
    // Idle now: every source partition parked, nothing left in the queues.
    await until("parked sources", () => r.runtime.taskRunners.filter((x) => x.task.isSource).every((x) => x.parked));
  });

  it("refuses a record that does not match the schema and stores nothing of its request", async () => {
    running = await start();
    const res = await post(running, [
      { user: "ada", page: "/a", ts: 1 },
      { user: "", page: "nope", ts: -1 },
    ]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { record: number; message: string };
    expect(body.record).toBe(1);
    expect(body.message).toMatch(/user/);
    expect((await post(running, [{ user: "ada", page: "/a", ts: 1 }])).status).toBe(202);
    await until("one record", () => running?.output.length === 1);
    expectCounts(running.output, { ada: 1 });
  });

  it("dead-letters a poison record while the job goes on, and replays it after the fix", async () => {
    running = await start();
    const r = running;
    expect(
      (
        await post(r, [
          { user: "ada", page: "/poison", ts: 1 },
          { user: "bob", page: "/b", ts: 2 },
        ])
      ).status,
    ).toBe(202);
    await until("bob's click", () => r.output.some((o) => o.user === "bob"));
    const dlq = async () =>
      (await (await fetch(`${r.server.url}/jobs/clicks/dlq`, { headers: { "x-api-key": KEY } })).json()) as {
        records: { id: string; error: string; value: unknown }[];
      };
    await until("a dead letter", async () => (await dlq()).records.length === 1);
    const [letter] = (await dlq()).records;
    expect(letter?.error).toMatch(/poison click by ada/);
    expect(letter?.value).toEqual({ user: "ada", page: "/poison", ts: 1 });
    expect(r.output.some((o) => o.user === "ada")).toBe(false);
    faults.poisonFixed = true;
    const replay = await fetch(`${r.server.url}/jobs/clicks/dlq/replay`, {
      method: "POST",
      headers: { "x-api-key": KEY, "content-type": "application/json" },
      body: "{}",
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ replayed: 1 });
    await until("ada's click", () => r.output.some((o) => o.user === "ada"));
    expectCounts(r.output, { ada: 1, bob: 1 });
    // A second replay finds nothing left to replay.
    expect(await r.control.replay()).toEqual({ replayed: 0 });
  });

  it("replays a record that dead-letters again after a replay, any number of rounds", async () => {
    running = await start();
    const r = running;
    expect((await post(r, [{ user: "ada", page: "/poison", ts: 1 }])).status).toBe(202);
    const letters = async () => (await r.control.deadLetters()).records;
    await until("a dead letter", async () => (await letters()).length === 1);
    // Replayed while still poisoned, twice: it dead-letters again each round.
    for (let round = 2; round <= 3; round++) {
      expect(await r.control.replay()).toEqual({ replayed: 1 });
      await until(`dead letter ${round}`, async () => (await letters()).length === round);
    }
    faults.poisonFixed = true;
    expect(await r.control.replay()).toEqual({ replayed: 1 });
    await until("ada's click", () => r.output.some((o) => o.user === "ada"));
    expect((await post(r, [{ user: "bob", page: "/b", ts: 2 }])).status).toBe(202);
    await until("bob's click", () => r.output.some((o) => o.user === "bob"));
    expectCounts(r.output, { ada: 1, bob: 1 });
    expect(r.runtime.restarts).toBe(0);
    expect((await letters()).every((d) => d.replayedAt !== undefined)).toBe(true);
  });

  it("restores from a savepoint over HTTP while it runs: state and input positions go back to the savepoint", async () => {
    running = await start();
    const r = running;
    const call = (path: string, body: unknown) =>
      fetch(`${r.server.url}/jobs/clicks/${path}`, {
        method: "POST",
        headers: { "x-api-key": KEY, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const click = (user: string, ts: number) => ({ user, page: "/p", ts });
    expect((await post(r, [click("ada", 1), click("ada", 2), click("bob", 3)])).status).toBe(202);
    await until("the first three counts", () => r.output.length === 3);
    const sp = await call("savepoints", { name: "sp1" });
    expect(sp.status, await sp.clone().text()).toBe(201);
    expect((await post(r, [click("ada", 4)])).status).toBe(202);
    await until("ada's third click", () => r.output.some((o) => o.user === "ada" && o.n === 3));
    const before = r.output.length;
    const restored = await call("restore", { savepoint: "sp1" });
    expect(restored.status, await restored.clone().text()).toBe(200);
    expect(await restored.json()).toEqual({ generation: 2 });
    // The source reads again from the savepoint's positions (ada's fourth click included),
    // and the counts go on from the savepoint's state.
    expect((await post(r, [click("ada", 5)])).status).toBe(202);
    await until("ada's fourth click", () => r.output.some((o) => o.user === "ada" && o.n === 4));
    // Two more checkpoints: a duplicate would be published by now.
    const cp = r.runtime.lastCheckpoint?.id ?? 0;
    await until("two more checkpoints", () => (r.runtime.lastCheckpoint?.id ?? 0) >= cp + 2);
    expect(r.output.slice(before).map((o) => `${o.user}${o.n}`)).toEqual(["ada3", "ada4"]);
    const status = await r.control.status();
    expect(status.generation).toBe(2);
    expect(status.failed).toBeUndefined();
    // An unknown savepoint is refused, and the job goes on.
    expect((await call("restore", { savepoint: "nope" })).status).toBe(409);
    expect(r.runtime.generation).toBe(2);
  });
});
