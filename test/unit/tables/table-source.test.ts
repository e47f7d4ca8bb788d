/**
 * Another job's dynamic table as a source (core/tables/table-source.ts): the newest
 * snapshot first, then each newly sealed checkpoint's difference as retract changes;
 * a restored position resumes mid-step with exactly the changes not passed on; a replay
 * tag starts again at the newest snapshot; a reader whose checkpoint is gone moves on
 * only when nothing changed since.
 */
import { describe, expect, it } from "vitest";
import type { SplitReader } from "../../../core/api/source.ts";
import { InMemoryTableStore } from "../../../core/memory/in-memory-table-store.ts";
import type { TableSpec } from "../../../core/ports/table-store.ts";
import type { ChangeRecord } from "../../../core/sql/changelog.ts";
import { keyOf } from "../../../core/tables/fold.ts";
import { riffleTableSource } from "../../../core/tables/table-source.ts";

const spec: TableSpec = { name: "t", columns: "k VARCHAR, v BIGINT", primaryKey: ["k"] };

async function put(store: InMemoryTableStore, checkpoint: number, rows: Record<string, number | null>) {
  const versions = Object.entries(rows).map(([k, v]) => ({
    key: keyOf(["k"], { k }),
    row: v === null ? null : { k, v },
  }));
  await store.write("up", "t", checkpoint, versions);
  await store.seal("up", { checkpoint, time: checkpoint, tables: [spec] });
}

function open(store: InMemoryTableStore, position?: unknown, replay?: string): SplitReader<ChangeRecord> {
  const source = riffleTableSource("up", "t", replay === undefined ? {} : { replay });
  return source.reader(source.splits(1)[0] as never, position, {
    job: "down",
    tables: store,
    currentProcessingTime: () => 0,
  });
}

describe("riffleTableSource", () => {
  it("reads the newest snapshot, then each step's difference as retractions; an unchanged row makes nothing", async () => {
    const store = new InMemoryTableStore();
    await put(store, 1, { a: 1, b: 2 });
    await put(store, 2, { b: 3 });
    const r = open(store);
    const first = await r.read(100);
    expect(first.records).toEqual([
      { kind: "+I", row: { k: "a", v: 1 } },
      { kind: "+I", row: { k: "b", v: 3 } },
    ]);
    expect(await r.read(100)).toMatchObject({ records: [], idle: true, wakeAt: 50 });
    await put(store, 3, { a: 1, b: 4, c: 5 });
    await put(store, 4, { c: null, d: 6 });
    expect((await r.read(100)).records).toEqual([
      { kind: "-U", row: { k: "b", v: 3 } },
      { kind: "+U", row: { k: "b", v: 4 } },
      { kind: "+I", row: { k: "d", v: 6 } },
    ]);
  });

  it("resumes from a position taken mid-step with exactly the rest, and starts over under another replay tag", async () => {
    const store = new InMemoryTableStore();
    await put(store, 1, { a: 1, b: 2, c: 3 });
    const r = open(store);
    const part = await r.read(2);
    expect(part.records).toHaveLength(2);
    const rest = await open(store, part.position).read(100);
    expect([...part.records, ...rest.records].map((c) => c.row.k)).toEqual(["a", "b", "c"]);
    await put(store, 2, { a: 10 });
    const end = await open(store, rest.position).read(100);
    expect(end.records).toEqual([
      { kind: "-U", row: { k: "a", v: 1 } },
      { kind: "+U", row: { k: "a", v: 10 } },
    ]);
    const again = await open(store, end.position, "fix").read(100);
    expect(again.records.map((c) => `${c.kind}${c.row.k}${c.row.v}`)).toEqual(["+Ia10", "+Ib2", "+Ic3"]);
    expect((await open(store, end.position).read(100)).records).toEqual([]);
  });

  it("moves past a checkpoint no longer kept when nothing changed since, and refuses when something did", async () => {
    const store = new InMemoryTableStore();
    await put(store, 1, { a: 1 });
    const at1 = (await open(store).read(100)).position;
    await put(store, 2, {});
    await store.retain("up", [2]);
    expect(await open(store, at1).read(100)).toMatchObject({ records: [], idle: true });
    await put(store, 3, { a: 2 });
    await store.retain("up", [3]);
    await expect(open(store, at1).read(100)).rejects.toThrow(/no longer keeps that checkpoint's snapshot/);
  });
});
