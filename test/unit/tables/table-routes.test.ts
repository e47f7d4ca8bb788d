/**
 * The HTTP routes of dynamic tables, called with API Gateway v2 events over a job that
 * ran on the embedded runtime: list, point lookup, snapshot, changes as NDJSON and SSE,
 * batch SQL; every answer names its checkpoint; refusals are precise 4xx.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { valueState } from "../../../core/api/state.ts";
import { EmbeddedJobControl } from "../../../core/control/embedded-control.ts";
import { InMemoryIngestLog } from "../../../core/memory/in-memory-ingest-log.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { createHttpApi } from "../../../functions/http/api.ts";
import { type EventSpec, event, KEY, post } from "../../support/http-api-events.ts";

const clicks = Array.from({ length: 200 }, (_, i) => ({ user: `u${i % 5}`, n: (i % 3) + 1 }));
const want = new Map<string, number>();
for (const c of clicks) want.set(c.user, (want.get(c.user) ?? 0) + c.n);

const job = defineJob("shop", (env) => {
  env.enableCheckpointing(5);
  env.configure({ sourceBatchSize: 10 });
  const state = { total: valueState<number>() };
  env
    .fromElements(clicks)
    .keyBy((c) => c.user)
    .process<{ user: string; total: number }, typeof state>({
      state,
      processElement(c, ctx) {
        const total = (ctx.state.total.value() ?? 0) + c.n;
        ctx.state.total.update(total);
        ctx.emit({ user: c.user, total });
      },
    })
    .toTable("totals", { columns: "`user` VARCHAR, total BIGINT", primaryKey: ["user"] });
});

async function setup() {
  const clock = new ManualClock();
  const runtime = new EmbeddedRuntime(job, { clock, beforeBatch: () => clock.advance(1) });
  await runtime.run();
  const control = new EmbeddedJobControl(runtime, new InMemoryIngestLog());
  const handler = createHttpApi({
    jobs: (j) => (j === "shop" ? control : undefined),
    credentials: [KEY],
    log: () => {},
  });
  return async (spec: EventSpec) => {
    const res = await handler(event(spec));
    return { ...res, text: res.body as string, json: () => JSON.parse(res.body as string) as Record<string, unknown> };
  };
}

describe("the dynamic table routes", () => {
  it("list, look up, scan, follow changes and query, each at a reported checkpoint", async () => {
    const call = await setup();
    const list = await call({ path: "/jobs/shop/tables" });
    expect(list.statusCode).toBe(200);
    const body = list.json() as { checkpoint: number; checkpoints: number[]; tables: { name: string }[] };
    expect(body.tables).toEqual([{ name: "totals", columns: "`user` VARCHAR, total BIGINT", primaryKey: ["user"] }]);
    const newest = body.checkpoint;
    expect(list.headers?.["riffle-checkpoint"]).toBe(String(newest));

    const ada = await call({ path: "/jobs/shop/tables/totals", query: { key: "u2" } });
    expect(ada.json()).toEqual({
      kind: "lookup",
      checkpoint: newest,
      table: "totals",
      row: { user: "u2", total: want.get("u2") },
    });
    const missing = await call({ path: "/jobs/shop/tables/totals", query: { key: "nobody" } });
    expect(missing.json()).toMatchObject({ row: null, checkpoint: newest });

    const older = body.checkpoints[0] as number;
    const snap = await call({ path: "/jobs/shop/tables/totals", query: { at: String(older) } });
    expect(snap.json()).toMatchObject({ kind: "snapshot", checkpoint: older });

    const nd = await call({ path: "/jobs/shop/tables/totals/changes", query: { from: "0" } });
    expect(nd.headers?.["content-type"]).toBe("application/x-ndjson");
    const changes = nd.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { checkpoint: number; key: string[]; row: { total: number } });
    const folded = new Map<string, number>();
    for (const c of changes) folded.set(c.key[0] as string, c.row.total);
    expect(folded).toEqual(want);

    const sse = await call({
      path: "/jobs/shop/tables/totals/changes",
      headers: { accept: "text/event-stream", "last-event-id": String(newest) },
    });
    expect(sse.headers?.["content-type"]).toMatch(/^text\/event-stream/);
    expect(sse.text).toBe(`retry: 1000\nid: ${newest}\nevent: checkpoint\ndata: {"checkpoint":${newest}}\n\n`);
    const sseAll = await call({ path: "/jobs/shop/tables/totals/changes", headers: { accept: "text/event-stream" } });
    expect(sseAll.text.match(/event: change\n/g)?.length).toBe(changes.length);

    const q = await call(post("/jobs/shop/query", { sql: "SELECT COUNT(*) AS users, SUM(total) AS s FROM totals" }));
    expect(q.statusCode).toBe(200);
    const total = clicks.reduce((a, c) => a + c.n, 0);
    expect(q.json()).toMatchObject({
      kind: "query",
      checkpoint: newest,
      columns: ["users", "s"],
      rows: [{ users: 5, s: total }],
    });
  });

  it("refuses unknown tables and checkpoints, bad keys and bad SQL with precise 4xx", async () => {
    const call = await setup();
    const cases: [EventSpec, number, string][] = [
      [{ path: "/jobs/shop/tables/nope" }, 404, "unknown-table"],
      [{ path: "/jobs/shop/tables/totals", query: { at: "99999" } }, 404, "unknown-checkpoint"],
      [{ path: "/jobs/shop/tables/totals", query: { at: "x" } }, 400, "invalid-checkpoint"],
      [{ path: "/jobs/shop/tables/totals", query: { savepoint: "none" } }, 404, "unknown-savepoint"],
      [{ path: "/jobs/shop/tables/totals", query: { key: "" } }, 400, "invalid-key"],
      [{ path: "/jobs/shop/tables/nope/changes" }, 404, "unknown-table"],
      [post("/jobs/shop/query", { sql: "SELECT nope FROM totals" }), 400, "invalid-sql"],
      [post("/jobs/shop/query", { sql: "SELEC 1" }), 400, "invalid-sql"],
      [post("/jobs/shop/query", {}), 400, "invalid-body"],
      [{ path: "/jobs/shop/query" }, 405, "method-not-allowed"],
    ];
    for (const [spec, status, error] of cases) {
      const res = await call(spec);
      expect([res.statusCode, res.json().error], JSON.stringify(spec)).toEqual([status, error]);
    }
  });
});
