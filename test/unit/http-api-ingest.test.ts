/**
 * `POST /jobs/{job}/sources/{source}/events` called directly with API Gateway v2
 * events: JSON arrays, NDJSON, base64 bodies, the limits, parse errors with their
 * position, schema validation (all or nothing) and durability of the answer.
 */

import { describe, expect, it } from "vitest";
import { locateJsonError } from "../../functions/http/json-position.ts";
import { EVENTS, event, post, setup } from "../support/http-api-events.ts";

const click = (user: string, extra?: object) => ({ user, page: "/home", ...extra });
const ndjson = (body: string, type = "application/x-ndjson") => ({
  path: EVENTS,
  method: "POST",
  body,
  headers: { "content-type": type },
});

describe("ingest: accepted", () => {
  it("ingests a JSON array (the schema's output: defaults applied) and answers 202 with the sequence range", async () => {
    const { call, shop } = setup();
    const res = await call(post(EVENTS, [click("ann"), click("bob", { amount: 5 })]));
    expect(res.statusCode).toBe(202);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json).toEqual({ accepted: 2, partition: 0, first: 0, last: 1 });
    expect(shop.logs.get("clicks")?.[0]).toEqual([
      { user: "ann", page: "/home", amount: 1 },
      { user: "bob", page: "/home", amount: 5 },
    ]);
    const again = await call(post(EVENTS, [click("cy")]));
    expect(again.json).toEqual({ accepted: 1, partition: 1, first: 0, last: 0 });
  });

  it("passes the partition key from ?key= to ingest and refuses an empty one", async () => {
    const { call, shop } = setup();
    const a = await call({ ...post(EVENTS, [click("ann")]), query: { key: "ann" } });
    const b = await call({ ...post(EVENTS, [click("ann")]), query: { key: "ann" } });
    expect(a.statusCode).toBe(202);
    expect(b.json.partition).toBe(a.json.partition);
    expect(b.json).toMatchObject({ first: 1, last: 1 });
    expect(shop.ingestCalls.map((c) => c.key)).toEqual(["ann", "ann"]);
    const empty = await call({ ...post(EVENTS, [click("ann")]), query: { key: "" } });
    expect(empty.statusCode).toBe(400);
    expect(shop.ingestCalls).toHaveLength(2);
  });

  it("reads NDJSON and JSONL (blank lines and CRLF ignored) and a base64-encoded body", async () => {
    const { call, shop } = setup();
    const text = `${JSON.stringify(click("a"))}\r\n\n   \n${JSON.stringify(click("b"))}\n`;
    expect((await call(ndjson(text))).json).toMatchObject({ accepted: 2 });
    expect((await call(ndjson(text, "application/jsonl; charset=utf-8"))).json).toMatchObject({ accepted: 2 });
    const raw = '[1, {"k": "é"}]';
    const b64 = await call({
      ...post("/jobs/shop/sources/raw/events", ""),
      body: Buffer.from(raw).toString("base64"),
      base64: true,
    });
    expect(b64.statusCode).toBe(202);
    expect(shop.logs.get("raw")?.[0]).toEqual([1, { k: "é" }]);
    expect(shop.ingestCalls.map((c) => c.records.length)).toEqual([2, 2, 2]);
  });

  it("answers only after ingest resolved (durable on 202)", async () => {
    const { handler, shop } = setup();
    let open = (): void => {};
    shop.ingestGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let done = false;
    const pending = handler(event(post(EVENTS, [click("a")]))).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    expect(shop.ingestCalls).toHaveLength(0);
    open();
    expect((await pending).statusCode).toBe(202);
    expect(shop.ingestCalls).toHaveLength(1);
  });
});

describe("ingest: refused", () => {
  it("lists the job's ingest sources for an unknown source (404)", async () => {
    const { call } = setup();
    const res = await call(post("/jobs/shop/sources/views/events", [click("a")]));
    expect(res.statusCode).toBe(404);
    expect(res.json).toEqual({
      error: "unknown-source",
      message: "job 'shop' has no ingest source 'views' (ingest sources: clicks, raw)",
      sources: ["clicks", "raw"],
    });
  });

  it("refuses a body over maxBodyBytes (413, size and limit; base64 counted decoded) and too many records (413)", async () => {
    const { call, shop } = setup({ maxBodyBytes: 100, maxRecords: 3 });
    const big = JSON.stringify([click("x".repeat(100))]);
    const res = await call(post(EVENTS, big));
    expect(res.statusCode).toBe(413);
    expect(res.json).toMatchObject({ error: "body-too-large", bytes: big.length, limit: 100 });
    expect(res.json.message).toContain(`request body is ${big.length} bytes, over the limit of 100 bytes`);
    const b64 = Buffer.alloc(100, 0x20);
    const fits = await call({ ...post(EVENTS, ""), body: b64.toString("base64"), base64: true });
    expect(fits.statusCode).toBe(400); // 100 decoded bytes (136 encoded) pass the limit; blank is empty
    expect(fits.json.error).toBe("empty-body");

    const many = await call(post("/jobs/shop/sources/raw/events", [1, 2, 3, 4]));
    expect(many.statusCode).toBe(413);
    expect(many.json).toMatchObject({ error: "too-many-records", records: 4, limit: 3 });
    const lines = await call(ndjson("1\n2\n\n3\n4\n"));
    expect(lines.statusCode).toBe(413);
    expect(lines.json.message).toContain("4 non-blank lines, over the limit of 3 records");
    expect(shop.ingestCalls).toHaveLength(0);
  });

  it("names where JSON is malformed: the position for an array, the line for NDJSON", async () => {
    const { call } = setup();
    const arr = await call(post(EVENTS, '[{"user": "a", "page": "/"},\n {"user": }]'));
    expect(arr.statusCode).toBe(400);
    expect(arr.json).toMatchObject({ error: "malformed-json", position: 39, line: 2, column: 11 });
    expect(arr.json.message).toMatch(/^request body is not valid JSON: .*position 39/);
    const nd = await call(ndjson('{"user":"a","page":"/"}\n\n{"user": "b",\n'));
    expect(nd.statusCode).toBe(400);
    expect(nd.json).toMatchObject({ error: "malformed-json", line: 3 });
    expect(nd.json.message).toMatch(/^line 3 is not valid JSON: /);
    expect(nd.json.message).not.toContain("line 1"); // V8's position is within the line, named as a column
  });

  it("refuses a body that is not an array, an empty array, an empty body and blank NDJSON (400)", async () => {
    const { call } = setup();
    const object = await call(post(EVENTS, { user: "a" }));
    expect(object.statusCode).toBe(400);
    expect(object.json.error).toBe("not-an-array");
    expect(object.json.message).toContain("got an object");
    for (const [spec, code] of [
      [post(EVENTS, []), "empty-body"],
      [post(EVENTS, ""), "empty-body"],
      [ndjson("\n  \n"), "empty-body"],
    ] as const) {
      const res = await call(spec);
      expect(res.statusCode).toBe(400);
      expect(res.json.error).toBe(code);
    }
  });

  it("refuses an unsupported content type (415) and charset", async () => {
    const { call } = setup();
    for (const type of ["text/csv", "application/x-www-form-urlencoded", "application/json; charset=latin1"]) {
      const res = await call(post(EVENTS, [click("a")], { "content-type": type }));
      expect(res.statusCode, type).toBe(415);
      expect(res.json.error).toBe("unsupported-media-type");
    }
  });

  it("validates every record before ingesting any: 422 names the first bad record, lists up to 10", async () => {
    const { call, shop } = setup();
    const records = [click("ok"), { user: "", page: "/" }, click("ok"), { user: "b", page: 7, amount: -1 }];
    for (let i = 0; i < 12; i++) records.push({ user: 1, page: "/" } as never);
    const res = await call(post(EVENTS, records));
    expect(res.statusCode).toBe(422);
    expect(res.json).toMatchObject({ error: "schema-mismatch", record: 1, invalid: 14, source: "clicks" });
    expect(res.json.message).toMatch(/^1: user: /);
    const errors = res.json.errors as { record: number; message: string }[];
    expect(errors).toHaveLength(10);
    expect(errors.map((e) => e.record)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(errors[1]?.message).toMatch(/^3: page: .*; amount: /);
    expect(shop.ingestCalls).toHaveLength(0);

    const nd = await call(ndjson(`${JSON.stringify(click("a"))}\n\n${JSON.stringify({ page: "/" })}\n`));
    expect(nd.statusCode).toBe(422);
    expect(nd.json).toMatchObject({ record: 1, line: 3, invalid: 1 });
    expect(nd.json.message).toMatch(/^1: user: /);
    expect(nd.json.errors).toEqual([{ record: 1, line: 3, message: nd.json.message }]);
    expect(shop.ingestCalls).toHaveLength(0);
  });
});

describe("locateJsonError", () => {
  it("agrees with JSON.parse on validity and with every position V8 reports, over 20,000 mutated texts", () => {
    const base = JSON.stringify([{ a: 1, b: [true, false, null, -1.5e3, 'x\\y"z\u0001é'], c: {} }, [], "", 0]);
    const alphabet = '{}[],:"\\1-.etn \n x0E+';
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * n);
    };
    let positioned = 0;
    for (let k = 0; k < 20_000; k++) {
      let s = base;
      for (let m = 1 + rnd(3); m > 0; m--) {
        const i = rnd(s.length);
        const ch = alphabet[rnd(alphabet.length)] as string;
        const op = rnd(3);
        s = op === 0 ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + ch + s.slice(op === 1 ? i : i + 1);
      }
      let error: string | undefined;
      try {
        JSON.parse(s);
      } catch (e) {
        error = (e as Error).message;
      }
      const at = locateJsonError(s);
      expect(at === undefined, s).toBe(error === undefined);
      const v8 = error === undefined ? undefined : /position (\d+)/.exec(error)?.[1];
      if (v8 === undefined) continue;
      positioned++;
      expect(at?.position, s).toBe(Number(v8));
    }
    expect(positioned).toBeGreaterThan(5_000);
  });
});
