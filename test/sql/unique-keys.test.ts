/**
 * Unique keys (core/sql/unique-keys.ts): what the `nexmark` connector declares (people's and
 * auctions' ids, each among its own event type's rows), carried through the views' calcs, made
 * unconditional by a filter on the event type, and what a join shows of them in EXPLAIN.
 */
import { describe, expect, it } from "vitest";
import type { Rel } from "../../core/sql/logical.ts";
import { planSql } from "../../core/sql/session.ts";
import { uniqueKeysOf, uniqueOn } from "../../core/sql/unique-keys.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** The plan below the sink of `INSERT INTO out <select>` over the Nexmark tables. */
function planOf(select: string, columns = "a BIGINT"): Rel {
  const script = `${nexmarkTables(1000, 1000)};
    CREATE TABLE out (${columns}) WITH ('connector' = 'print');
    INSERT INTO out ${select}`;
  return (planSql(script).inserts[0] as unknown as { optimized: Rel }).optimized;
}

/** The first join in `rel`. */
function joinIn(rel: Rel): Extract<Rel, { kind: "join" }> {
  if (rel.kind === "join") return rel;
  if (!("input" in rel)) throw new Error("no join");
  return joinIn(rel.input);
}

const column = (index: number): never => ({ kind: "input", index, type: { kind: "BIGINT" } }) as never;

describe("unique keys", () => {
  it("of a view over the nexmark table: an auction's and a person's id, not a bid's auction", () => {
    expect(uniqueKeysOf(planOf("SELECT id FROM auction"))).toEqual([{ key: [{ column: 0, path: [] }] }]);
    expect(uniqueKeysOf(planOf("SELECT id FROM person"))).toEqual([{ key: [{ column: 0, path: [] }] }]);
    expect(uniqueKeysOf(planOf("SELECT auction FROM bid"))).toEqual([]);
  });

  it("hold only among the rows of their event type until a filter requires it", () => {
    // Every event's auction.id: NULL but for auctions, so two bids agree on it; conditional only.
    const all = uniqueKeysOf(planOf("SELECT event_type, auction.id FROM datagen", "t INT, a BIGINT"));
    expect(all).toEqual([{ when: { column: 0, value: 1 }, key: [{ column: 1, path: [] }] }]);
    expect(uniqueKeysOf(planOf("SELECT auction.id FROM datagen"))).toEqual([]);
    expect(uniqueKeysOf(planOf("SELECT auction.id FROM datagen WHERE event_type = 1"))).toEqual([
      { key: [{ column: 0, path: [] }] },
    ]);
    expect(uniqueKeysOf(planOf("SELECT auction.id FROM datagen WHERE event_type = 2"))).toEqual([]);
    // Not a column: a key computed from the id is not carried.
    expect(uniqueKeysOf(planOf("SELECT id + 1 FROM auction"))).toEqual([]);
  });

  it("make a join side unique on its key only when the key holds the whole unique key", () => {
    const join = joinIn(
      planOf(
        "SELECT A.id FROM auction A JOIN bid B ON A.id = B.auction WHERE B.dateTime BETWEEN A.dateTime AND A.expires",
      ),
    );
    expect(uniqueOn(join.left, join.leftKeys)).toBe(true);
    expect(uniqueOn(join.right, join.rightKeys)).toBe(false);
    // Another column of the auction as the key.
    expect(uniqueOn(join.left, [column(1)])).toBe(false);
  });

  it("show in EXPLAIN as Flink's input specs of an append join", () => {
    const script = `${nexmarkTables(1000, 1000)};
      CREATE TABLE out (a BIGINT) WITH ('connector' = 'print');
      EXPLAIN INSERT INTO out SELECT B.auction FROM bid B JOIN auction A ON B.auction = A.id`;
    expect(planSql(script).explains[0]).toMatch(
      /Join\(type=\[InnerJoin\], keys=\[auction = id\], leftInputSpec=\[NoUniqueKey\], rightInputSpec=\[JoinKeyContainsUniqueKey\]\)/,
    );
  });
});
