/**
 * Governed access in SQL (issue 16 must-shows): a principal sees only its rows, through
 * a join, a view and a subquery alike; masked columns stay masked whatever the query
 * does with them; a denied read is refused and audited; the audit table holds every
 * access and only the auditor can read it. Each answer is compared with an oracle
 * computed in TypeScript from the same data.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { boundedClassifier } from "../../core/governance/classify.ts";
import { ForbiddenError, type Principal } from "../../core/governance/principal.ts";
import { governedQuery } from "../../core/governance/query.ts";
import { InMemoryAuditLog } from "../../core/memory/in-memory-audit-log.ts";
import { AUDITOR, CARDS, type Customer, FRAUD, NORTH, type Order, writeWarehouse } from "./fixtures.ts";

let ddl: string;
let orders: Order[];
let customers: Customer[];
beforeAll(() => {
  ({ ddl, orders, customers } = writeWarehouse());
});

const sortById = (rows: readonly Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

function run(principal: Principal, query: string, audit = new InMemoryAuditLog(), extraDdl = "") {
  return governedQuery({ principal, ddl: ddl + extraDdl, query, audit, sensitive: boundedClassifier() });
}

describe("row policies", () => {
  it("a principal sees only its rows, directly, through a join, a view and a subquery", async () => {
    const north = orders.filter((o) => o.region === "north");
    expect(north.length).toBeGreaterThan(0);
    expect(north.length).toBeLessThan(orders.length);

    const direct = await run(NORTH, "SELECT id, region, amount FROM orders");
    expect(sortById(direct.rows)).toEqual(north.map((o) => ({ id: o.id, region: o.region, amount: o.amount })));

    // The join's other side has its own policy: a north order's customer is a north customer.
    const joined = await run(
      NORTH,
      "SELECT o.id, c.customer, c.tier FROM orders o JOIN customers c ON o.customer = c.customer",
    );
    const byName = new Map(customers.map((c) => [c.customer, c]));
    expect(sortById(joined.rows)).toEqual(
      north.map((o) => ({ id: o.id, customer: o.customer, tier: byName.get(o.customer)?.tier })),
    );

    // A view reads the table through the same scan: defined without any filter, it still filters.
    const view = await run(
      NORTH,
      "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM every_order GROUP BY region",
      undefined,
      "CREATE VIEW every_order AS SELECT * FROM orders;",
    );
    expect(view.rows).toEqual([{ region: "north", n: north.length, total: north.reduce((s, o) => s + o.amount, 0) }]);

    const sub = await run(NORTH, "SELECT id FROM (SELECT * FROM orders WHERE region <> 'north') AS t");
    expect(sub.rows).toEqual([]);
  });

  it("a principal without a policy on a table it may read sees all of it", async () => {
    const all = await run(FRAUD, "SELECT id FROM orders");
    expect(all.rows).toHaveLength(orders.length);
  });
});

describe("masks", () => {
  const values = (rows: Record<string, unknown>[]) => rows.flatMap((r) => Object.values(r).map(String));

  it("sensitive columns stay masked whatever the query does with them", async () => {
    const emails = new Set(orders.map((o) => o.email));
    const phones = new Set(customers.map((c) => c.phone));
    const leaks = (rows: Record<string, unknown>[]) =>
      values(rows).filter((v) => CARDS.some((c) => v.includes(c)) || emails.has(v) || phones.has(v));
    const queries = [
      "SELECT * FROM orders",
      "SELECT card, email, COUNT(*) AS n FROM orders GROUP BY card, email",
      "SELECT UPPER(email) AS e, card || '' AS c FROM orders",
      "SELECT o.card, c.phone FROM orders o JOIN customers c ON o.customer = c.customer",
      "SELECT x.card FROM (SELECT card FROM orders) AS x",
    ];
    for (const q of queries) {
      const r = await run(NORTH, q);
      expect(r.rows.length, q).toBeGreaterThan(0);
      expect(leaks(r.rows), q).toEqual([]);
    }
    const all = await run(NORTH, "SELECT card, email FROM orders");
    for (const row of all.rows) {
      expect(row.card).toMatch(/^\*+\d{4}$/);
      expect(row.email).toMatch(/^c\*\*\*@example\.com$/);
    }
    // A filter compares the masked value: it cannot test for an original (which the unmask grant finds).
    const probe = `SELECT id FROM orders WHERE card = '${CARDS[0]}'`;
    expect((await run(NORTH, probe)).rows).toEqual([]);
    expect((await run(FRAUD, probe)).rows.length).toBeGreaterThan(0);
  });

  it("the unmask grant sees the classified columns as they are", async () => {
    const r = await run(FRAUD, "SELECT id, card, email FROM orders");
    expect(sortById(r.rows)).toEqual(orders.map((o) => ({ id: o.id, card: o.card, email: o.email })));
  });
});

describe("denied reads and the audit", () => {
  it("a read without the grant is refused, names the grant, and is audited", async () => {
    const audit = new InMemoryAuditLog();
    const err = await run(FRAUD, "SELECT o.id FROM orders o JOIN customers c ON o.customer = c.customer", audit).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).grant).toBe("read:customers");
    expect((err as Error).message).toContain("read:customers");
    const [entry] = await audit.read();
    expect(entry).toMatchObject({ principal: "fraud-desk", outcome: "denied", grant: "read:customers", rows: 0 });
  });

  it("the audit table holds every access, and only the auditor reads it", async () => {
    const audit = new InMemoryAuditLog();
    const a = await run(NORTH, "SELECT id FROM orders", audit);
    const b = await run(FRAUD, "SELECT id, card FROM orders", audit);
    await run(FRAUD, "SELECT * FROM customers", audit).catch(() => undefined);
    const spy = await run(NORTH, "SELECT * FROM riffle_audit", audit).catch((e: unknown) => e);
    expect(spy).toBeInstanceOf(ForbiddenError);
    expect((spy as ForbiddenError).grant).toBe("auditor");

    const seen = await run(
      AUDITOR,
      "SELECT principal, tables, predicates, row_count, outcome, missing_grant, fingerprint FROM riffle_audit",
      audit,
    );
    const expected = [
      {
        principal: "north-analyst",
        tables: "orders",
        predicates: "orders: region = 'north'",
        row_count: a.rows.length,
        outcome: "allowed",
        missing_grant: null,
        fingerprint: a.fingerprint,
      },
      {
        principal: "fraud-desk",
        tables: "orders",
        predicates: "",
        row_count: b.rows.length,
        outcome: "allowed",
        missing_grant: null,
        fingerprint: b.fingerprint,
      },
      {
        principal: "fraud-desk",
        tables: "",
        predicates: "",
        row_count: 0,
        outcome: "denied",
        missing_grant: "read:customers",
        fingerprint: null,
      },
      {
        principal: "north-analyst",
        tables: "",
        predicates: "",
        row_count: 0,
        outcome: "denied",
        missing_grant: "auditor",
        fingerprint: null,
      },
    ];
    expect(seen.rows).toHaveLength(expected.length);
    expect(seen.rows).toEqual(expect.arrayContaining(expected));
    // The auditor's own read is audited too, with its fingerprint.
    const all = await audit.read();
    expect(all).toHaveLength(5);
    expect(all[4]).toMatchObject({
      principal: "auditor",
      tables: ["riffle_audit"],
      rows: 4,
      fingerprint: seen.fingerprint,
    });
  });

  it("the fingerprint traces a result: the same read gives the same one, another principal another", async () => {
    const q = "SELECT id, amount FROM orders";
    const [x, y, z] = [await run(NORTH, q), await run(NORTH, q), await run(FRAUD, q)];
    expect(x.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(y.fingerprint).toBe(x.fingerprint);
    expect(z.fingerprint).not.toBe(x.fingerprint);
    expect(x.principal).toBe("north-analyst");
  });
});
