/**
 * The HTTP API over real HTTP: `serveHttp` (node:http) in front of the handler,
 * driven with fetch. Proves the event conversion (path, query, headers, base64
 * bodies, source IP), the result conversion, the whole API flow over the wire,
 * and that oversized bodies are refused early without reading them whole.
 */

import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpApi } from "../../functions/http/api.ts";
import { type LocalHttpServer, serveHttp } from "../../functions/local/http-server.ts";
import { type FakeJobControl, fakeJobs } from "../support/fake-job-control.ts";

const KEY = "integration-key";
const auth = { authorization: `Bearer ${KEY}` };
const LIMIT = 256 * 1024;

let server: LocalHttpServer;
let shop: FakeJobControl;

beforeAll(async () => {
  const { jobs, controls } = fakeJobs("shop");
  shop = controls.get("shop") as FakeJobControl;
  server = await serveHttp(createHttpApi({ jobs, credentials: [KEY], maxBodyBytes: LIMIT, log: () => {} }));
});
afterAll(async () => {
  await server.close();
});

const json = (body: unknown) => ({ ...auth, "content-type": "application/json", body: JSON.stringify(body) });
async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}
const postJson = (path: string, body: unknown) => {
  const { body: text, ...headers } = json(body);
  return send(path, { method: "POST", headers, body: text });
};

describe("HTTP API over node:http", () => {
  it("runs the API flow: ingest JSON and NDJSON, status, savepoint, restore, dead letters, replay", async () => {
    const ingest = await postJson("/jobs/shop/sources/clicks/events?key=ann", [{ user: "ann", page: "/" }]);
    expect(ingest.status).toBe(202);
    expect(ingest.headers.get("content-type")).toBe("application/json");
    expect(ingest.json).toMatchObject({ accepted: 1, first: 0, last: 0 });
    expect(shop.ingestCalls.at(-1)?.key).toBe("ann");

    const nd = await send("/jobs/shop/sources/clicks/events", {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-ndjson" },
      body: '{"user":"a","page":"/"}\n{"user":"b","page":"/x","amount":3}\n',
    });
    expect(nd.json).toMatchObject({ accepted: 2 });

    expect((await send("/jobs/shop", { headers: auth })).json).toMatchObject({ job: "shop", generation: 1 });
    expect((await postJson("/jobs/shop/savepoints", { name: "v1" })).status).toBe(201);
    expect((await postJson("/jobs/shop/savepoints", { name: "v1" })).status).toBe(409);
    expect((await postJson("/jobs/shop/restore", { savepoint: "v1" })).json).toEqual({ generation: 2 });
    expect(((await send("/jobs/shop/checkpoints", { headers: auth })).json.checkpoints as unknown[]).length).toBe(3);
    expect(((await send("/jobs/shop/dlq", { headers: auth })).json.records as unknown[]).length).toBe(3);
    expect((await send("/jobs/shop/dlq/replay", { method: "POST", headers: auth })).json).toEqual({ replayed: 3 });
  });

  it("answers 401 with a Bearer challenge before anything else, 405 with allow, and decodes path segments", async () => {
    const anon = await send("/jobs/nope/dlq");
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe("Bearer");
    const viaKey = await send("/jobs/shop", { headers: { "x-api-key": KEY } });
    expect(viaKey.status).toBe(200);
    const wrong = await send("/jobs/shop/dlq", { method: "DELETE", headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    const decoded = await postJson("/jobs/shop/sources/cl%C3%A9/events", [1]);
    expect(decoded.json.message).toContain("no ingest source 'clé'");
  });

  it("answers HEAD like GET, without a body", async () => {
    const get = await fetch(`${server.url}/jobs/shop/checkpoints`, { headers: auth });
    const getBody = await get.text();
    const head = await fetch(`${server.url}/jobs/shop/checkpoints`, { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("application/json");
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(getBody)));
    expect(await head.text()).toBe("");
    const anon = await fetch(`${server.url}/jobs/shop`, { method: "HEAD" });
    expect([anon.status, await anon.text()]).toEqual([401, ""]);
    const post = await fetch(`${server.url}/jobs/shop/restore`, { method: "HEAD", headers: auth });
    expect([post.status, post.headers.get("allow"), await post.text()]).toEqual([405, "POST", ""]);
  });

  it("sends a body that is not UTF-8 base64-encoded to the handler (which refuses it as text)", async () => {
    const res = await send("/jobs/shop/sources/raw/events", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]),
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid-utf8");
  });

  it("lets the handler answer a body just over its limit (after auth), with the exact size", async () => {
    const body = JSON.stringify(["x".repeat(LIMIT)]);
    const anon = await send("/jobs/shop/sources/raw/events", { method: "POST", body });
    expect(anon.status).toBe(401);
    const res = await send("/jobs/shop/sources/raw/events", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: "body-too-large", bytes: body.length, limit: LIMIT });
  });

  it("refuses a body far over the limit from content-length, before reading it", async () => {
    const res = await send("/jobs/shop/sources/raw/events", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: new Uint8Array(16 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(res.json.message).toContain(
      `request body is ${16 * 1024 * 1024} bytes (content-length), over the limit of ${LIMIT}`,
    );
  });

  it("stops reading a streamed (chunked) body once it passes the limit plus slack", async () => {
    const offered = 256 * 1024 * 1024;
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= offered) return controller.close();
        pulled += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const init = { method: "POST", headers: auth, body: stream, duplex: "half" } as RequestInit;
    const res = await send("/jobs/shop/sources/raw/events", init);
    expect(res.status).toBe(413);
    expect(res.json.message).toMatch(/request body is at least \d+ bytes \(stopped reading there\)/);
    // The server read a little past the cap; the client could push only what socket buffers hold.
    expect(pulled).toBeLessThan(32 * 1024 * 1024);
    // The server still serves.
    expect((await send("/jobs/shop", { headers: auth })).status).toBe(200);
  });
});

describe("serveHttp event and result conversion", () => {
  it("builds a v2 event as API Gateway does and writes structured, base64, cookie and bare results", async () => {
    const seen: APIGatewayProxyEventV2[] = [];
    let result: APIGatewayProxyResultV2 = "";
    const local = await serveHttp(async (event) => {
      seen.push(event);
      return result;
    });
    try {
      result = {
        statusCode: 207,
        headers: { "X-Thing": 5 },
        cookies: ["a=1", "b=2"],
        body: "aGk=",
        isBase64Encoded: true,
      };
      const res = await fetch(`${local.url}/a%20b/c?x=1&y=two&x=3`, {
        method: "PUT",
        headers: { "X-Custom": "Yes", cookie: "s=1; t=2", "content-type": "text/plain" },
        body: "héllo",
      });
      expect(res.status).toBe(207);
      expect(res.headers.get("x-thing")).toBe("5");
      expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await res.text()).toBe("hi");
      const e = seen[0] as APIGatewayProxyEventV2;
      expect(e).toMatchObject({
        version: "2.0",
        routeKey: "$default",
        rawPath: "/a%20b/c",
        rawQueryString: "x=1&y=two&x=3",
        queryStringParameters: { x: "1,3", y: "two" },
        cookies: ["s=1", "t=2"],
        body: "héllo",
        isBase64Encoded: false,
        requestContext: { http: { method: "PUT", path: "/a%20b/c", sourceIp: "127.0.0.1" }, routeKey: "$default" },
      });
      expect(e.headers["x-custom"]).toBe("Yes");
      expect(e.headers.cookie).toBeUndefined();

      result = "plain";
      const bare = await fetch(`${local.url}/`);
      expect(bare.status).toBe(200);
      expect(bare.headers.get("content-type")).toBe("application/json");
      expect(await bare.text()).toBe("plain");
      expect(seen[1]?.body).toBeUndefined();
      expect(seen[1]?.queryStringParameters).toBeUndefined();
    } finally {
      await local.close();
    }
  });

  it("answers 500 without details when the handler throws, and logs it", async () => {
    const lines: string[] = [];
    const local = await serveHttp(
      async () => {
        throw new Error("secret detail");
      },
      { log: (l) => lines.push(l) },
    );
    try {
      const res = await fetch(`${local.url}/x`);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body).error).toBe("internal");
      expect(body).not.toContain("secret detail");
      expect(lines.join("\n")).toContain("secret detail");
    } finally {
      await local.close();
    }
  });
});
