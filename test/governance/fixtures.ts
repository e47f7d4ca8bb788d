/** A small governed warehouse for the governance tests: orders and customers as JSON files, and principals. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Principal } from "../../core/governance/principal.ts";

export const CARDS = [
  "4111111111111111",
  "5555555555554444",
  "378282246310005",
  "6011111111111117",
  "4012888888881881",
];
export const REGIONS = ["north", "south", "east"];

export interface Order {
  id: number;
  customer: string;
  region: string;
  amount: number;
  card: string;
  email: string;
}

export interface Customer {
  customer: string;
  region: string;
  phone: string;
  tier: string;
}

/** 30 orders of 6 customers over three regions; cards, e-mails and phones for the classifier to find. */
export function dataset(): { orders: Order[]; customers: Customer[] } {
  const customers: Customer[] = Array.from({ length: 6 }, (_, i) => ({
    customer: `c${i}`,
    region: REGIONS[i % 3] as string,
    phone: `+44 20 7946 09${String(i).padStart(2, "0")}`,
    tier: i % 2 === 0 ? "gold" : "basic",
  }));
  const orders: Order[] = Array.from({ length: 30 }, (_, i) => {
    const c = customers[(i * 7) % 6] as Customer;
    return {
      id: i + 1,
      customer: c.customer,
      region: c.region,
      amount: 10 + ((i * 37) % 90),
      card: CARDS[i % CARDS.length] as string,
      email: `${c.customer}.buyer${i}@example.com`,
    };
  });
  return { orders, customers };
}

/** Writes the dataset as JSON-lines files and returns the DDL of its two tables. */
export function writeWarehouse(): { ddl: string; orders: Order[]; customers: Customer[] } {
  const dir = mkdtempSync(join(tmpdir(), "riffle-gov-"));
  const { orders, customers } = dataset();
  const lines = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
  writeFileSync(join(dir, "orders.json"), lines(orders));
  writeFileSync(join(dir, "customers.json"), lines(customers));
  const table = (name: string, columns: string) =>
    `CREATE TABLE ${name} (${columns}) WITH ('connector' = 'filesystem', 'path' = '${join(dir, `${name}.json`)}', 'format' = 'json');`;
  const ddl = [
    table("orders", "id BIGINT, customer VARCHAR, region VARCHAR, amount BIGINT, card VARCHAR, email VARCHAR"),
    table("customers", "customer VARCHAR, region VARCHAR, phone VARCHAR, tier VARCHAR"),
  ].join("\n");
  return { ddl, orders, customers };
}

/** Sees only the north region's rows of both tables; e-mails masked by its policy. */
export const NORTH: Principal = {
  name: "north-analyst",
  grants: ["read:orders", "read:customers"],
  policies: {
    orders: { rows: "region = 'north'", masks: { email: "mask_email(email)" } },
    customers: { rows: "region = 'north'" },
  },
};
/** Reads orders only, every region, with the unmask grant. */
export const FRAUD: Principal = { name: "fraud-desk", grants: ["read:orders", "unmask"] };
/** Reads the audit, nothing else. */
export const AUDITOR: Principal = { name: "auditor", grants: ["auditor"] };
