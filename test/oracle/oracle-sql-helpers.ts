// Event factories and row assertions shared by the oracle SQL tests.

import { expect } from "vitest";
import { runOracle } from "./duckdb-oracle.ts";

export /** 2015-07-15T00:00:00Z, a multiple of 10 s (and of 2 s), like the generator's base time. */
const T = Date.UTC(2015, 6, 15);
export const SECOND = 1000;
export const HOUR = 3600 * SECOND;

export type Event = Record<string, unknown>;

export function person(fields: Event): Event {
  return {
    type: "person",
    id: 1000,
    name: "Peter Smith",
    emailAddress: "ps@abc.com",
    creditCard: "1111 2222 3333 4444",
    city: "Bend",
    state: "OR",
    dateTime: T,
    extra: "",
    ...fields,
  };
}

export function auction(fields: Event): Event {
  return {
    type: "auction",
    id: 1000,
    itemName: "item",
    description: "desc",
    initialBid: 100,
    reserve: 200,
    dateTime: T,
    expires: T + 60 * SECOND,
    seller: 1000,
    category: 10,
    extra: "",
    ...fields,
  };
}

export function bid(fields: Event): Event {
  return {
    type: "bid",
    auction: 1000,
    bidder: 2000,
    price: 100,
    channel: "Google",
    url: "https://www.google.com/search",
    dateTime: T,
    extra: "",
    ...fields,
  };
}

/** Rows in a canonical order (by their JSON with sorted keys), for order-insensitive exact comparison. */
export function sorted(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const text = (row: Record<string, unknown>) =>
    JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));
  return [...rows].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

export async function expectRows(query: string, events: readonly Event[], expected: Record<string, unknown>[]) {
  const actual = await runOracle(query, events);
  expect(sorted(actual)).toEqual(sorted(expected));
}

/** The bid's q0-style projection. */
export function bidRow(b: Event) {
  return { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra };
}
