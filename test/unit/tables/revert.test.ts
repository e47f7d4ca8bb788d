/** A savepoint restore takes every dynamic table back to its snapshot at the savepoint's checkpoint. */
import { describe, expect, it } from "vitest";
import { InMemoryTableStore } from "../../../core/memory/in-memory-table-store.ts";
import { revertTables } from "../../../core/tables/revert.ts";

const upsert = { name: "totals", columns: "k VARCHAR, v BIGINT", primaryKey: ["k"] };
const append = { name: "events", columns: "k VARCHAR" };

describe("revertTables", () => {
  it("writes back each changed key's version at the checkpoint, deletions for keys born after it", async () => {
    const store = new InMemoryTableStore();
    const seal = (checkpoint: number) => store.seal("j", { checkpoint, time: 0, tables: [upsert, append] });
    await store.write("j", "totals", 2, [{ key: '["a"]', row: { k: "a", v: 1 } }]);
    await store.write("j", "events", 2, [{ key: "p1", row: { k: "a" } }]);
    await seal(2);
    await store.write("j", "totals", 4, [
      { key: '["a"]', row: { k: "a", v: 5 } },
      { key: '["b"]', row: { k: "b", v: 7 } },
    ]);
    await store.write("j", "events", 4, [{ key: "p2", row: { k: "b" } }]);
    await seal(4);

    expect(await revertTables(store, "j", 2, 9)).toBe(3);
    expect(await revertTables(store, "j", 2, 9)).toBe(3); // again: the same versions
    const rows = async (table: string, at: number) =>
      (await store.scan("j", table, at)).filter((v) => v.row !== null).map((v) => v.row);
    expect(await rows("totals", 9)).toEqual(await rows("totals", 2));
    expect(await rows("events", 9)).toEqual([{ k: "a" }]);
    // The snapshots before the restore stay readable as they were.
    expect(await rows("totals", 4)).toEqual([
      { k: "a", v: 5 },
      { k: "b", v: 7 },
    ]);
    // A savepoint at the newest checkpoint changes nothing.
    expect(await revertTables(store, "j", 9, 10)).toBe(0);
  });
});
