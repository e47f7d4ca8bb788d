/**
 * The HTTP API handler called directly with API Gateway v2 events, over the
 * in-memory JobControl double: auth, routing, ingest (JSON array, NDJSON, base64,
 * limits, schema), the control routes, and the mapping of control errors.
 */

import { describe, expect, it } from "vitest";
import { RestoreInterruptedError } from "../../core/checkpoint/restore.ts";
import { OperatorError, RiffleError } from "../../core/errors.ts";
import { httpHandlerFromEnv } from "../../functions/http/api.ts";
import { MISSING_CREDENTIAL } from "../../functions/http/auth.ts";
import { fakeJobs } from "../support/fake-job-control.ts";
import { event, KEY, post, setup } from "../support/http-api-events.ts";

describe("auth", () => {
  it("refuses a request without credentials with 401 and a Bearer challenge, even for an unknown job", async () => {
    const { call } = setup();
    for (const path of ["/jobs/shop", "/jobs/nope", "/nowhere"]) {
      const res = await call({ path, anonymous: true });
      expect(res.statusCode).toBe(401);
      expect(res.json).toEqual({ error: "unauthorized", message: MISSING_CREDENTIAL });
      expect(res.headers["www-authenticate"]).toBe("Bearer");
      expect(res.headers["content-type"]).toBe("application/json");
    }
  });

  it("refuses a wrong bearer token or x-api-key (a prefix or extension of the key too) with another message", async () => {
    const { call } = setup();
    const attempts: Record<string, string>[] = [
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${KEY.slice(0, -1)}` },
      { "x-api-key": `${KEY}x` },
    ];
    for (const headers of attempts) {
      const res = await call({ path: "/jobs/shop", anonymous: true, headers });
      expect(res.statusCode).toBe(401);
      expect(res.json.error).toBe("unauthorized");
      expect(res.json.message).toMatch(/^invalid credential/);
      expect(res.headers["www-authenticate"]).toBe("Bearer");
    }
  });

  it("names an unsupported authorization scheme", async () => {
    const { call } = setup();
    const res = await call({ path: "/jobs/shop", anonymous: true, headers: { authorization: "Basic dTpw" } });
    expect(res.statusCode).toBe(401);
    expect(res.json.message).toContain("unsupported authorization scheme 'Basic'");
  });

  it("accepts any configured key by bearer (any case of the scheme) or x-api-key, and re-reads a key function", async () => {
    let keys = ["old", "new"];
    const { call } = setup({ credentials: () => keys });
    expect(
      (await call({ path: "/jobs/shop", anonymous: true, headers: { authorization: "bearer new" } })).statusCode,
    ).toBe(200);
    expect((await call({ path: "/jobs/shop", anonymous: true, headers: { "x-api-key": "old" } })).statusCode).toBe(200);
    keys = ["new"];
    expect((await call({ path: "/jobs/shop", anonymous: true, headers: { "x-api-key": "old" } })).statusCode).toBe(401);
  });

  it("is never open: no configured key refuses everything, and so does httpHandlerFromEnv without RIFFLE_API_KEYS", async () => {
    const { call } = setup({ credentials: [] });
    const res = await call({ path: "/jobs/shop" });
    expect(res.statusCode).toBe(401);
    expect(res.json.message).toContain("the server has no credentials configured");

    const saved = process.env.RIFFLE_API_KEYS;
    try {
      const { jobs } = fakeJobs("shop");
      const handler = httpHandlerFromEnv(jobs);
      for (const value of [undefined, "", " , "]) {
        if (value === undefined) delete process.env.RIFFLE_API_KEYS;
        else process.env.RIFFLE_API_KEYS = value;
        const r = await handler(event({ path: "/jobs/shop" }));
        expect(r.statusCode).toBe(401);
        expect(JSON.parse(r.body).message).toContain("no credentials configured");
      }
      process.env.RIFFLE_API_KEYS = ` other , ${KEY}`;
      expect((await handler(event({ path: "/jobs/shop" }))).statusCode).toBe(200);
    } finally {
      if (saved === undefined) delete process.env.RIFFLE_API_KEYS;
      else process.env.RIFFLE_API_KEYS = saved;
    }
  });
});

describe("routing", () => {
  it("answers 404 for an unknown job, 404 for an unknown route and 405 with allow for a wrong method", async () => {
    const { call } = setup();
    const unknown = await call({ path: "/jobs/x" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json).toEqual({ error: "unknown-job", message: "no job 'x'" });

    const route = await call({ path: "/jobs/shop/nothing" });
    expect(route.statusCode).toBe(404);
    expect(route.json.error).toBe("not-found");
    expect(route.json.message).toContain("no route for GET /jobs/shop/nothing");

    const method = await call({ path: "/jobs/shop/restore", method: "GET" });
    expect(method.statusCode).toBe(405);
    expect(method.headers.allow).toBe("POST");
    expect(method.json.error).toBe("method-not-allowed");
  });

  it("answers HEAD wherever GET is, with the GET headers and no body; allow lists HEAD with GET", async () => {
    const { call, handler } = setup();
    for (const path of ["/jobs/shop", "/jobs/shop/checkpoints", "/jobs/shop/dlq"]) {
      const get = await handler(event({ path }));
      const head = await handler(event({ path, method: "HEAD" }));
      expect(head.statusCode, path).toBe(200);
      expect(head.body).toBe("");
      expect(head.headers).toEqual({ ...get.headers, "content-length": String(Buffer.byteLength(get.body)) });
    }
    const post = await call({ path: "/jobs/shop/restore", method: "HEAD" });
    expect([post.statusCode, post.headers.allow]).toEqual([405, "POST"]);
    expect((await call({ path: "/jobs/shop/savepoints", method: "PUT" })).headers.allow).toBe("GET, POST, HEAD");
    expect((await call({ path: "/jobs/shop/dlq", method: "PUT" })).headers.allow).toBe("GET, HEAD");
  });

  it("URL-decodes path segments (a space in a job, a slash inside a source segment)", async () => {
    const { call } = setup();
    const res = await call({ path: "/jobs/my%20job" });
    expect(res.statusCode).toBe(200);
    expect(res.json.job).toBe("my job");
    const src = await call(post("/jobs/shop/sources/a%2Fb/events", [{}]));
    expect(src.statusCode).toBe(404);
    expect(src.json.message).toContain("no ingest source 'a/b'");
    expect((await call({ path: "/jobs/%E0%A4%A" })).statusCode).toBe(400);
  });
});

describe("control routes", () => {
  it("answers status, checkpoints and dead letters from the control", async () => {
    const { call, shop } = setup();
    const status = await call({ path: "/jobs/shop" });
    expect(status.statusCode).toBe(200);
    expect(status.json).toEqual(JSON.parse(JSON.stringify(await shop.status())));
    const cps = await call({ path: "/jobs/shop/checkpoints" });
    expect(cps.json).toEqual({ checkpoints: JSON.parse(JSON.stringify(shop.checkpointList)) });
    const dlq = await call({ path: "/jobs/shop/dlq" });
    expect(dlq.statusCode).toBe(200);
    expect((dlq.json.records as unknown[]).length).toBe(3);
    expect(dlq.json.envelopes).toEqual([]);
  });

  it("takes a savepoint (201), refuses a missing or invalid name (400), a duplicate or a finished job (409)", async () => {
    const { call, shop } = setup();
    const ok = await call(post("/jobs/shop/savepoints", { name: "v1" }));
    expect(ok.statusCode).toBe(201);
    expect(ok.json).toMatchObject({ job: "shop", name: "v1", checkpoint: 3 });

    for (const body of ["", "{}", { name: 5 }, { name: "" }, "[1]"]) {
      const res = await call(post("/jobs/shop/savepoints", body));
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const invalid = await call(post("/jobs/shop/savepoints", { name: "bad name!" }));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json).toMatchObject({ error: "invalid-name" });
    expect(invalid.json.message).toContain("savepoint name 'bad name!' must be");

    const dup = await call(post("/jobs/shop/savepoints", { name: "v1" }));
    expect(dup.statusCode).toBe(409);
    expect(dup.json).toEqual({ error: "savepoint", message: "job 'shop' already has a savepoint named 'v1'" });
    shop.finished = true;
    const done = await call(post("/jobs/shop/savepoints", { name: "v2" }));
    expect(done.statusCode).toBe(409);
    expect(done.json.message).toContain("has finished");
    expect(shop.savepoints.map((s) => s.name)).toEqual(["v1"]);
  });

  it("restores (200 with the generation); an unknown savepoint is 409, a missing one 400", async () => {
    const { call, shop } = setup();
    await call(post("/jobs/shop/savepoints", { name: "v1" }));
    const ok = await call(post("/jobs/shop/restore", { savepoint: "v1" }));
    expect(ok.statusCode).toBe(200);
    expect(ok.json).toEqual({ generation: 2 });
    const unknown = await call(post("/jobs/shop/restore", { savepoint: "nope" }));
    expect(unknown.statusCode).toBe(409);
    expect(unknown.json).toEqual({ error: "savepoint", message: "job 'shop' has no savepoint named 'nope'" });
    expect((await call(post("/jobs/shop/restore", {}))).statusCode).toBe(400);
    expect(shop.generation).toBe(2);
  });

  it("a restore that began but was interrupted is 202 with its generation: it finishes by itself", async () => {
    const { call, shop } = setup();
    await call(post("/jobs/shop/savepoints", { name: "v1" }));
    const busy = new RiffleError("compaction-busy", "another compaction of p holds its lease; try again later", {
      retryable: true,
    });
    shop.failNext("restore", new RestoreInterruptedError("shop", 2, busy));
    const res = await call(post("/jobs/shop/restore", { savepoint: "v1" }));
    expect(res.statusCode).toBe(202);
    expect(res.json).toMatchObject({ generation: 2, restoring: true });
    expect(res.json.message).toMatch(/began but was interrupted \(another compaction of p holds its lease/);
    // A refusal before anything changed stays a 503 to retry.
    shop.failNext("restore", busy);
    expect((await call(post("/jobs/shop/restore", { savepoint: "v1" }))).statusCode).toBe(503);
  });

  it("replays given dead letters or all, and checks ids", async () => {
    const { call } = setup();
    const some = await call(post("/jobs/shop/dlq/replay", { ids: ["count#0#7#1"] }));
    expect(some.json).toEqual({ replayed: 1 });
    const rest = await call({ path: "/jobs/shop/dlq/replay", method: "POST" });
    expect(rest.statusCode).toBe(200);
    expect(rest.json).toEqual({ replayed: 2 });
    const bad = await call(post("/jobs/shop/dlq/replay", { ids: [1] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json.message).toContain("'ids' must be an array of dead-letter id strings");
  });

  it("maps an unexpected error to 500 without internals (logged with its stack), a retryable one to 503", async () => {
    const { call, shop, logged } = setup();
    shop.failNext("status", new Error("dynamo exploded at 10.0.0.7"));
    const res = await call({ path: "/jobs/shop" });
    expect(res.statusCode).toBe(500);
    expect(res.json.error).toBe("internal");
    expect(res.body).not.toContain("dynamo exploded");
    expect(res.body).not.toContain(".ts");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("dynamo exploded at 10.0.0.7");
    expect(logged[0]).toContain("http-api.test.ts"); // the stack

    shop.failNext("checkpoints", new OperatorError("count", new Error("throttled")));
    const busy = await call({ path: "/jobs/shop/checkpoints" });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers["retry-after"]).toBe("1");
    expect(busy.json).toEqual({ error: "operator-failed", message: "operator 'count' failed: throttled" });

    shop.failNext("replay", new RiffleError("conflict", "replay already running"));
    expect((await call({ path: "/jobs/shop/dlq/replay", method: "POST" })).statusCode).toBe(409);
  });
});
