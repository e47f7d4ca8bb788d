/**
 * Governed reads of dynamic tables over the HTTP API: a principal's row policy and
 * masks, and the classifier's masks for principals without `unmask`, apply to every
 * read path (snapshot, point lookup, changes, query), and each read is audited with
 * the predicate, the masked columns, the rows returned and the checkpoint read.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { EmbeddedJobControl } from "../../core/control/embedded-control.ts";
import { hashKey, type KeyedPrincipal } from "../../core/governance/principals-config.ts";
import { InMemoryAuditLog } from "../../core/memory/in-memory-audit-log.ts";
import { InMemoryIngestLog } from "../../core/memory/in-memory-ingest-log.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { createHttpApi } from "../../functions/http/api.ts";
import { event, post } from "../support/http-api-events.ts";
import { dataset, type Order } from "./fixtures.ts";

const { orders } = dataset();
/** Order 1 (north) moves to the south region after the others are in. */
const moved: Order = { ...(orders[0] as Order), region: "south" };
const COLUMNS = "id BIGINT, customer VARCHAR, region VARCHAR, amount BIGINT, card VARCHAR, email VARCHAR";

const job = defineJob("shop", (env) => {
  env.enableCheckpointing(5);
  env.configure({ sourceBatchSize: 4 });
  env
    .fromElements([...orders, moved])
    .keyBy((o) => String(o.id))
    .map((o) => o)
    .toTable("orders", { columns: COLUMNS, primaryKey: ["id"] });
});

const keyed = (name: string, grants: string[], policies?: KeyedPrincipal["policies"]): KeyedPrincipal => ({
  name,
  keySha256: [hashKey(`key-${name}`)],
  grants,
  ...(policies ? { policies } : {}),
});
const PRINCIPALS = [
  keyed("north", ["read:orders"], { orders: { rows: "region = 'north'" } }),
  keyed("north-sql", ["read:*"], { orders: { rows: "region = 'north'", masks: { customer: "'?'" } } }),
  keyed("fraud", ["read:orders", "unmask"]),
  keyed("nobody", ["monitor"]),
];

async function setup() {
  const clock = new ManualClock();
  const runtime = new EmbeddedRuntime(job, { clock, beforeBatch: () => clock.advance(1) });
  await runtime.run();
  const audit = new InMemoryAuditLog();
  const control = new EmbeddedJobControl(runtime, new InMemoryIngestLog());
  const handler = createHttpApi({
    jobs: (j) => (j === "shop" ? control : undefined),
    credentials: { principals: PRINCIPALS },
    audit,
    log: () => {},
  });
  const call = async (who: string, spec: Parameters<typeof event>[0]) => {
    const res = await handler(
      event({ ...spec, anonymous: true, headers: { ...spec.headers, "x-api-key": `key-${who}` } }),
    );
    const text = res.body as string;
    return { status: res.statusCode, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  return { call, audit };
}

const north = orders.filter((o) => o.region === "north" && o.id !== 1);
const masked = (o: Order) => ({
  ...o,
  card: `${"*".repeat(o.card.length - 4)}${o.card.slice(-4)}`,
  email: `${o.email[0]}***@example.com`,
});
const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe("governed reads of dynamic tables", () => {
  it("a principal sees only its rows on every read path, with classified columns masked", async () => {
    const { call, audit } = await setup();
    const snap = (await call("north", { path: "/jobs/shop/tables/orders" })).json();
    expect(byId(snap.rows as Record<string, unknown>[])).toEqual(north.map(masked));

    const south = orders.find((o) => o.region === "south") as Order;
    expect(
      (await call("north", { path: "/jobs/shop/tables/orders", query: { key: String(south.id) } })).json().row,
    ).toBeNull();
    const own = north[0] as Order;
    expect(
      (await call("north", { path: "/jobs/shop/tables/orders", query: { key: String(own.id) } })).json().row,
    ).toEqual(masked(own));

    const changes = (await call("north", { path: "/jobs/shop/tables/orders/changes", query: { from: "0" } })).text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { op: string; row: Record<string, unknown> | null; key: unknown[] });
    expect(changes.every((c) => c.row === null || c.row.region === "north")).toBe(true);
    expect(changes.filter((c) => c.row !== null).every((c) => String(c.row?.card).startsWith("*"))).toBe(true);
    // Order 1 was north, then moved south: to this principal it was upserted, then deleted.
    expect(changes.filter((c) => c.key[0] === 1).map((c) => c.op)).toEqual(["upsert", "delete"]);

    const all = (await call("fraud", { path: "/jobs/shop/tables/orders" })).json();
    expect(byId(all.rows as Record<string, unknown>[])).toEqual([moved, ...orders.slice(1)]);

    const entries = await audit.read();
    expect(entries[0]).toMatchObject({
      principal: "north",
      tables: ["orders"],
      predicates: ["orders: region = 'north'"],
      masked: ["orders.card", "orders.email"],
      rows: north.length,
      outcome: "allowed",
      checkpoint: snap.checkpoint,
    });
    expect(entries.at(-1)).toMatchObject({ principal: "fraud", predicates: [], masked: [], rows: orders.length });
  });

  it("a query sees the principal's rows through a join and a subquery, masked, and carries a fingerprint", async () => {
    const { call, audit } = await setup();
    const sql =
      "SELECT a.region, COUNT(*) AS n, MAX(a.customer) AS c, MIN(b.card) AS card FROM orders a JOIN (SELECT * FROM orders) b ON a.id = b.id GROUP BY a.region";
    const res = await call("north-sql", post("/jobs/shop/query", { sql }));
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.rows).toEqual([
      { region: "north", n: north.length, c: "?", card: expect.stringMatching(/^\*+\d{4}$/) },
    ]);
    expect(body).toMatchObject({ principal: "north-sql", fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await audit.read()).at(-1)).toMatchObject({
      principal: "north-sql",
      predicates: ["orders: region = 'north'", "orders: region = 'north'"],
      fingerprint: body.fingerprint,
      query: sql,
      rows: 1,
    });
  });

  it("a principal without the table's read grant gets a 403, audited", async () => {
    const { call, audit } = await setup();
    const res = await call("nobody", { path: "/jobs/shop/tables/orders", query: { key: "1" } });
    expect([res.status, res.json().grant]).toEqual([403, "read:orders"]);
    expect(await audit.read()).toMatchObject([{ principal: "nobody", outcome: "denied", grant: "read:orders" }]);
  });
});
