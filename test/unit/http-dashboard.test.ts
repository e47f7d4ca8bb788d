/**
 * The dashboard's side of the HTTP API, called directly with API Gateway events:
 * its static files (no credential needed, strict CSP, no path escapes the build
 * directory), and the authenticated routes it reads: the plan, the savepoints and
 * the live feed, whose SSE frames the page's own parser reads back.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFrames, type Snapshot } from "../../dashboard/src/api.ts";
import { DASHBOARD_CSP } from "../../functions/http/dashboard.ts";
import { event, setup } from "../support/http-api-events.ts";

function builtDashboard(): string {
  const dir = mkdtempSync(join(tmpdir(), "riffle-ui-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>riffle</title>");
  writeFileSync(join(dir, "assets", "app-1.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  return dir;
}

describe("the dashboard's files", () => {
  it("are served without a credential, with a strict CSP and the right types", async () => {
    const { handler } = setup({ dashboardDir: builtDashboard() });
    const page = await handler(event({ path: "/ui/", anonymous: true }));
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe("<!doctype html><title>riffle</title>");
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const js = await handler(event({ path: "/ui/assets/app-1.js", anonymous: true }));
    expect([js.statusCode, js.headers["content-type"], js.body]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "console.log(1)",
    ]);
    expect(js.headers["cache-control"]).toContain("immutable");
    const png = await handler(event({ path: "/ui/assets/logo.png", anonymous: true }));
    expect([png.isBase64Encoded, Buffer.from(png.body, "base64")]).toEqual([
      true,
      Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    ]);
    const bare = await handler(event({ path: "/ui", anonymous: true }));
    expect([bare.statusCode, bare.headers.location]).toEqual([308, "/ui/"]);
  });

  it("answers a path outside the build, an unknown file or another method precisely", async () => {
    const { handler } = setup({ dashboardDir: builtDashboard() });
    for (const path of ["/ui/../package.json", "/ui/assets/../../x", "/ui/.env", "/ui/nope.js"]) {
      const res = await handler(event({ path, anonymous: true }));
      expect([path, res.statusCode]).toEqual([path, 404]);
    }
    const post = await handler(event({ path: "/ui/", method: "POST", anonymous: true }));
    expect([post.statusCode, post.headers.allow]).toEqual([405, "GET, HEAD"]);
    const head = await handler(event({ path: "/ui/assets/app-1.js", method: "HEAD", anonymous: true }));
    expect([head.statusCode, head.body, head.headers["content-length"]]).toEqual([200, "", "14"]);
  });

  it("says how to build it when it is missing, and never opens the API without a key", async () => {
    const { handler } = setup({ dashboardDir: join(tmpdir(), "riffle-no-such-ui") });
    const res = await handler(event({ path: "/ui/", anonymous: true }));
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([
      503,
      { error: "dashboard-not-built", message: "the dashboard is not built: run `npm run build:dashboard`" },
    ]);
    for (const path of ["/jobs/shop/plan", "/jobs/shop/events", "/jobs/shop/savepoints", "/uix"]) {
      expect([path, (await handler(event({ path, anonymous: true }))).statusCode]).toEqual([path, 401]);
    }
  });
});

describe("the routes the dashboard reads", () => {
  it("GET /jobs/{job}/plan and GET /jobs/{job}/savepoints", async () => {
    const { call, shop } = setup();
    const plan = await call({ path: "/jobs/shop/plan" });
    expect(plan.statusCode).toBe(200);
    expect((plan.json.tasks as { id: string }[]).map((t) => t.id)).toEqual(["clicks", "count"]);
    await shop.savepoint("s1");
    const sps = await call({ path: "/jobs/shop/savepoints" });
    expect((sps.json.savepoints as { name: string }[]).map((s) => s.name)).toEqual(["s1"]);
  });

  it("GET /jobs/{job}/events is one SSE snapshot with a retry delay", async () => {
    const { handler, shop } = setup();
    await shop.savepoint("s1");
    const res = await handler(event({ path: "/jobs/shop/events" }));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const events: [string, Snapshot][] = [];
    const { rest, retry } = parseFrames(res.body, (name, data) => events.push([name, JSON.parse(data)]));
    expect([rest, retry, events.length]).toEqual(["", 1000, 1]);
    const [name, snap] = events[0] as [string, Snapshot];
    expect(name).toBe("snapshot");
    expect(snap.status.job).toBe("shop");
    expect(snap.checkpoints.map((c) => c.id)).toEqual([1, 2, 3]);
    expect(snap.savepoints.map((s) => s.name)).toEqual(["s1"]);
    expect(snap.deadLetters.total).toBe(3);
  });

  it("the page's SSE parser keeps a partial frame for the next chunk", () => {
    const seen: string[] = [];
    const first = parseFrames('event: snapshot\ndata: {"a"', (_e, d) => seen.push(d));
    expect([first.rest, seen]).toEqual(['event: snapshot\ndata: {"a"', []]);
    const second = parseFrames(`${first.rest}:1}\n\nretry: 250\n\n`, (_e, d) => seen.push(d));
    expect([second.rest, second.retry, seen]).toEqual(["", 250, ['{"a":1}']]);
  });
});

describe("GET /metrics on the API", () => {
  it("answers the Prometheus text it is given, to an authenticated request only", async () => {
    const { handler } = setup({ metrics: () => 'riffle_generation{job="shop"} 1\n' });
    const res = await handler(event({ path: "/metrics" }));
    expect([res.statusCode, res.headers["content-type"], res.body]).toEqual([
      200,
      "text/plain; version=0.0.4; charset=utf-8",
      'riffle_generation{job="shop"} 1\n',
    ]);
    expect((await handler(event({ path: "/metrics", anonymous: true }))).statusCode).toBe(401);
    // Without metrics (the deployed API: they are in CloudWatch), there is no such route.
    expect((await setup().handler(event({ path: "/metrics" }))).statusCode).toBe(404);
  });
});
