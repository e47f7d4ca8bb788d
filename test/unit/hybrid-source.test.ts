/**
 * filesSource (JSON lines and CSV) and hybridSource: the history then the live
 * source, the switch and the history's boundary in the position, so a reader
 * restored at any position it returned reads exactly the rest.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FilesSourceError, filesSource } from "../../core/api/files-source.ts";
import { hybridSource } from "../../core/api/hybrid-source.ts";
import { elementsSource, generatorSource, type Source } from "../../core/api/source.ts";
import { JobDefinitionError } from "../../core/errors.ts";

interface E {
  readonly seq: number;
}

/** Reads `source`'s one split to its end in reads of `max`: the records and the position after each read. */
async function readAll<T>(source: Source<T>, max: number, from?: unknown) {
  const split = source.splits(1)[0];
  if (!split) throw new Error("no split");
  const r = source.reader(split, from);
  const steps: { records: T[]; position: unknown }[] = [];
  for (let i = 0; i < 10_000; i++) {
    const chunk = await r.read(max);
    steps.push({ records: chunk.records, position: chunk.position });
    if (chunk.done) return steps;
  }
  throw new Error("the source never ended");
}

function historyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "riffle-files-"));
  writeFileSync(join(dir, "a.jsonl"), `${[1, 2, 3].map((seq) => JSON.stringify({ seq })).join("\n")}\n\n`);
  writeFileSync(join(dir, "b.csv"), 'seq,note\n4,"x, ""quoted"""\n5,plain\n');
  writeFileSync(join(dir, "c.jsonl"), "");
  writeFileSync(join(dir, "ignored.txt"), "not read");
  return dir;
}

describe("filesSource", () => {
  it("reads JSON lines and CSV (header, RFC 4180 quotes) files in name order, skipping empty lines", async () => {
    const steps = await readAll(filesSource<Record<string, unknown>>(historyDir()), 2);
    // One split per file: the first split is a.jsonl.
    expect(steps.flatMap((s) => s.records)).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
    const csv = filesSource<Record<string, unknown>>(historyDir()).splits(1)[1];
    expect(csv?.id).toBe("b.csv");
    const r = filesSource(historyDir()).reader(csv as never, undefined);
    expect((await r.read(10)).records).toEqual([
      { seq: "4", note: 'x, "quoted"' },
      { seq: "5", note: "plain" },
    ]);
  });

  it("names the file and line of a line that is not JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-files-"));
    writeFileSync(join(dir, "bad.jsonl"), '{"seq":1}\n{oops\n');
    const source = filesSource(dir);
    const r = source.reader(source.splits(1)[0] as never, undefined);
    await expect(async () => r.read(10)).rejects.toThrow(FilesSourceError);
    await expect(async () => r.read(10)).rejects.toThrow(/bad\.jsonl' line 2 is not JSON/);
  });
});

describe("hybridSource", () => {
  const live = elementsSource<E>([2, 3, 6, 7, 8].map((seq) => ({ seq })));
  const hybrid = () => hybridSource(filesSource<E>(historyDir()), live, { boundary: (e) => Number(e.seq) });

  it("reads the history, then the live records above its boundary", async () => {
    const seqs = (await readAll(hybrid(), 2)).flatMap((s) => s.records.map((e) => Number(e.seq)));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("restored at any position it returned, reads exactly the rest", async () => {
    const steps = await readAll(hybrid(), 2);
    const all = steps.flatMap((s) => s.records.map((e) => Number(e.seq)));
    for (const [i, step] of steps.entries()) {
      const before = steps.slice(0, i + 1).flatMap((s) => s.records.map((e) => Number(e.seq)));
      const rest = (await readAll(hybrid(), 3, JSON.parse(JSON.stringify(step.position)))).flatMap((s) =>
        s.records.map((e) => Number(e.seq)),
      );
      expect([...before, ...rest], `restored after read ${i}`).toEqual(all);
    }
    expect(steps.some((s) => (s.position as { phase: string }).phase === "live")).toBe(true);
  });

  it("passes every live record on without a boundary, and refuses an unbounded history", async () => {
    const plain = hybridSource(filesSource<E>(historyDir()), live);
    expect((await readAll(plain, 10)).flatMap((s) => s.records)).toHaveLength(10);
    expect(() =>
      hybridSource(
        generatorSource((i) => ({ seq: i })),
        live,
      ),
    ).toThrow(JobDefinitionError);
  });
});
