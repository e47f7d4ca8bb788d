/**
 * Principals over the HTTP API: keys identify principals by their SHA-256 (the file
 * holds no key), every route checks its grant (403 `forbidden` naming it, before the
 * job is looked up), and every request is audited, allowed or denied, with its
 * principal, route, tables and rows.
 */
import { describe, expect, it } from "vitest";
import {
  hashKey,
  type KeyedPrincipal,
  PrincipalsError,
  parsePrincipals,
} from "../../core/governance/principals-config.ts";
import { InMemoryAuditLog } from "../../core/memory/in-memory-audit-log.ts";
import { secretApiKeys } from "../../functions/aws/secret-keys.ts";
import { ROUTES } from "../../functions/http/routes.ts";
import { post, setup } from "../support/http-api-events.ts";

const KEYS = { ingest: "key-ingest", ops: "key-ops", monitor: "key-monitor" };
const principal = (name: string, key: string, grants: string[]): KeyedPrincipal => ({
  name,
  keySha256: [hashKey(key)],
  grants,
});
const PRINCIPALS = [
  principal("clicks-writer", KEYS.ingest, ["ingest:clicks"]),
  principal("operator", KEYS.ops, ["admin"]),
  principal("watcher", KEYS.monitor, ["monitor"]),
];
const as = (key: string) => ({ anonymous: true, headers: { "x-api-key": key } });

function governed() {
  const audit = new InMemoryAuditLog();
  let t = 1000;
  const api = setup({ credentials: { principals: PRINCIPALS }, audit, now: () => t++ });
  return { ...api, audit };
}

describe("grants on routes", () => {
  it("every route declares a grant for each of its methods", () => {
    for (const r of ROUTES) expect(Object.keys(r.grants).sort(), r.path).toEqual(Object.keys(r.methods).sort());
  });

  it("a principal reaches the routes its grants cover; any other is a 403 naming the grant, and is audited", async () => {
    const { call, audit, shop } = governed();
    const click = [{ user: "ada", page: "/a", ts: 1 }];
    const cases: [string, Parameters<typeof call>[0], number, string?][] = [
      [KEYS.ingest, post("/jobs/shop/sources/clicks/events", click), 202],
      [KEYS.ingest, post("/jobs/shop/sources/raw/events", click), 403, "ingest:raw"],
      [KEYS.ingest, { path: "/jobs/shop" }, 403, "monitor"],
      [KEYS.monitor, { path: "/jobs/shop" }, 200],
      [KEYS.monitor, { path: "/jobs/shop/checkpoints" }, 200],
      [KEYS.monitor, { path: "/jobs/shop/dlq" }, 403, "admin"],
      [KEYS.monitor, post("/jobs/shop/savepoints", { name: "v1" }), 403, "admin"],
      [KEYS.ops, post("/jobs/shop/savepoints", { name: "v1" }), 201],
      [KEYS.ops, { path: "/jobs/shop" }, 200],
      [KEYS.ops, post("/jobs/shop/sources/clicks/events", click), 403, "ingest:clicks"],
      // The grant is checked before the job is looked up: no probing for job names.
      [KEYS.ingest, { path: "/jobs/secret-job/plan" }, 403, "monitor"],
    ];
    for (const [key, spec, status, grant] of cases) {
      const res = await call({ ...spec, ...as(key), headers: { ...spec.headers, ...as(key).headers } });
      expect(res.statusCode, `${spec.method ?? "GET"} ${spec.path}`).toBe(status);
      if (grant !== undefined) {
        expect(res.json).toMatchObject({ error: "forbidden", grant });
        expect(res.json.message).toContain(`lacks grant '${grant}'`);
      }
    }
    expect(shop.ingestCalls).toHaveLength(1);
    const entries = await audit.read();
    expect(entries).toHaveLength(cases.length);
    expect(entries[0]).toMatchObject({
      principal: "clicks-writer",
      route: "POST /jobs/{job}/sources/{source}/events",
      job: "shop",
      tables: ["clicks"],
      rows: 1,
      outcome: "allowed",
      status: 202,
    });
    expect(entries[1]).toMatchObject({
      principal: "clicks-writer",
      outcome: "denied",
      status: 403,
      grant: "ingest:raw",
      rows: 0,
    });
    expect(entries.map((e) => e.outcome)).toEqual(cases.map(([, , s]) => (s === 403 ? "denied" : "allowed")));
  });

  it("a request with a wrong key is a 401 and is audited as unauthenticated", async () => {
    const { call, audit } = governed();
    expect((await call({ path: "/jobs/shop", ...as("not-a-key") })).statusCode).toBe(401);
    expect(await audit.read()).toMatchObject([{ principal: "(unauthenticated)", outcome: "denied", status: 401 }]);
  });

  it("plain keys stay one principal with every grant", async () => {
    const audit = new InMemoryAuditLog();
    const { call } = setup({ audit });
    expect((await call(post("/jobs/shop/savepoints", { name: "v2" }))).statusCode).toBe(201);
    expect((await call(post("/jobs/shop/sources/raw/events", [{ x: 1 }]))).statusCode).toBe(202);
    expect((await audit.read()).map((e) => [e.principal, e.outcome])).toEqual([
      ["api-key", "allowed"],
      ["api-key", "allowed"],
    ]);
  });
});

describe("the deployed secret", () => {
  it("may hold a principals document; a malformed one is a retryable error naming the field", async () => {
    const good = secretApiKeys("arn:secret", { reader: async () => JSON.stringify({ principals: PRINCIPALS }) });
    const { call } = setup({ credentials: good });
    expect((await call({ path: "/jobs/shop", ...as(KEYS.monitor) })).statusCode).toBe(200);
    expect((await call({ path: "/jobs/shop/dlq", ...as(KEYS.monitor) })).statusCode).toBe(403);
    const bad = secretApiKeys("arn:secret", { reader: async () => '{"principals": [{"name": "x"}]}' });
    await expect(bad()).rejects.toMatchObject({ reason: "api-keys-invalid", retryable: true });
    await expect(bad()).rejects.toThrow("secret arn:secret: principals[0].keySha256 must be a list of strings");
  });
});

describe("the principals file", () => {
  const doc = (p: unknown) => JSON.stringify({ principals: [p] });
  const ok = { name: "a", keySha256: hashKey("k"), grants: ["read:orders"], policies: { orders: { rows: "x = 1" } } };

  it("holds digests, grants and policies", () => {
    expect(parsePrincipals(doc(ok), "f")).toEqual([{ ...ok, keySha256: [hashKey("k")] }]);
  });

  it("names what is wrong", () => {
    const wrong: [unknown, string][] = [
      [{ ...ok, keySha256: "k" }, "principals[0].keySha256 holds 'k…', not a hex SHA-256 digest"],
      [{ ...ok, grants: ["write:orders"] }, "principals[0].grants[0]: unknown grant 'write:orders'"],
      [{ ...ok, policies: { orders: { rows: "x = " } } }, "principals[0].policies.orders.rows"],
      [{ ...ok, policies: { orders: { row: "x = 1" } } }, "unknown field 'row'"],
      [{ ...ok, name: "" }, "principals[0].name must be a non-empty string"],
    ];
    for (const [p, message] of wrong) {
      expect(() => parsePrincipals(doc(p), "f.json")).toThrow(PrincipalsError);
      expect(() => parsePrincipals(doc(p), "f.json")).toThrow(message);
    }
    expect(() => parsePrincipals(JSON.stringify({ principals: [ok, { ...ok, name: "b" }] }), "f")).toThrow(
      "belongs to another principal too",
    );
  });
});
