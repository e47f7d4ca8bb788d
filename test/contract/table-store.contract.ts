/**
 * The `TableStore` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`, `dynamo.test.ts`).
 */

import { beforeEach, describe, expect, it } from "vitest";
import type { SealedCheckpoint, TableStore } from "../../core/ports/table-store.ts";

/** Fresh, empty store. */
export type MakeTableStore = () => Promise<TableStore>;

const spec = { name: "t", columns: "k VARCHAR, v BIGINT", primaryKey: ["k"] };
const sealed = (checkpoint: number): SealedCheckpoint => ({ checkpoint, time: checkpoint * 10, tables: [spec] });
const row = (k: string, v: number) => ({ k, v });

/** Defines the contract suite for the stores `make` creates. */
export function tableStoreContract(name: string, make: MakeTableStore): void {
  describe(`TableStore contract: ${name}`, () => {
    let store: TableStore;
    beforeEach(async () => {
      store = await make();
      // Versions of key a at 2, 5 (deleted) and 7; b at 2 and 5; an unsealed rewrite at 3.
      await store.write("j", "t", 2, [
        { key: '["a"]', row: row("a", 1) },
        { key: '["b"]', row: row("b", 1) },
      ]);
      await store.write("j", "t", 3, [{ key: '["b"]', row: row("b", 2) }]);
      await store.write("j", "t", 5, [
        { key: '["a"]', row: null },
        { key: '["b"]', row: row("b", 3) },
      ]);
      await store.write("j", "t", 7, [{ key: '["a"]', row: row("a", 4) }]);
      await store.write("other", "t", 2, [{ key: '["a"]', row: row("a", 99) }]);
      for (const c of [2, 5, 7]) await store.seal("j", sealed(c));
    });

    it("reads, per key, the newest version at or below a checkpoint", async () => {
      expect(await store.get("j", "t", '["a"]', 1)).toBeUndefined();
      expect(await store.get("j", "t", '["a"]', 4)).toEqual({ key: '["a"]', checkpoint: 2, row: row("a", 1) });
      expect(await store.get("j", "t", '["a"]', 6)).toEqual({ key: '["a"]', checkpoint: 5, row: null });
      expect(await store.get("j", "t", '["a"]', 100)).toMatchObject({ checkpoint: 7, row: row("a", 4) });
      expect((await store.scan("j", "t", 5)).map((v) => [v.key, v.checkpoint, v.row])).toEqual([
        ['["a"]', 5, null],
        ['["b"]', 5, row("b", 3)],
      ]);
      expect((await store.scan("j", "t", 2)).map((v) => v.row)).toEqual([row("a", 1), row("b", 1)]);
      expect(await store.scan("j", "nope", 7)).toEqual([]);
      expect((await store.scan("other", "t", 7)).map((v) => v.row)).toEqual([row("a", 99)]);
    });

    it("lists changes in checkpoint order, and writing a version again changes nothing", async () => {
      await store.write("j", "t", 5, [{ key: '["b"]', row: row("b", 3) }]);
      expect((await store.changes("j", "t", 2, 7)).map((v) => [v.checkpoint, v.key])).toEqual([
        [3, '["b"]'],
        [5, '["a"]'],
        [5, '["b"]'],
        [7, '["a"]'],
      ]);
      expect(await store.changes("j", "t", 7, 9)).toEqual([]);
    });

    it("keeps seals once, oldest first", async () => {
      await store.seal("j", { ...sealed(5), time: 1 });
      expect((await store.sealed("j")).map((s) => [s.checkpoint, s.time])).toEqual([
        [2, 20],
        [5, 50],
        [7, 70],
      ]);
      expect(await store.sealed("other")).toEqual([]);
    });

    it("retains what reads at kept checkpoints need, and their seals only", async () => {
      await store.retain("j", [5, 7]);
      expect((await store.sealed("j")).map((s) => s.checkpoint)).toEqual([5, 7]);
      // Reads at kept checkpoints answer as before.
      expect((await store.scan("j", "t", 5)).filter((v) => v.row !== null).map((v) => v.row)).toEqual([row("b", 3)]);
      expect(await store.get("j", "t", '["a"]', 7)).toMatchObject({ row: row("a", 4) });
      // Versions no kept checkpoint reads are gone: b at 2 and 3, a at 2 and its deletion at 5.
      expect((await store.changes("j", "t", 0, 7)).map((v) => [v.checkpoint, v.key])).toEqual([
        [5, '["b"]'],
        [7, '["a"]'],
      ]);
      expect((await store.scan("other", "t", 7)).length).toBe(1);
    });
  });
}
