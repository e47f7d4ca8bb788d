/**
 * Embedded dead-letter replay is exactly once across a crash: a replay answered as
 * durable, whose letters a crash kept from being marked replayed, is sent again by
 * the next run with the same sequence numbers (what `riffle dlq replay` leaves in
 * the state dir) and is dropped as a duplicate; the same letters under a new replay
 * time would be processed a second time. Runs the embedded runtime in this process
 * on a state dir and the file output store, as `riffle run` does.
 */

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stateDirDlq } from "../../cli/dlq.ts";
import { FileOutputStore } from "../../cli/file-output-store.ts";
import { openStateDir } from "../../core/durable/sqlite-db.ts";
import { type DataStream, defineJob, valueState } from "../../core/index.ts";
import type { StoredDeadLetter } from "../../core/ports/output-store.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { type ChaosRow, countRecord, generatorLayout, generatorRecord, SPLITS } from "../chaos/dataset.ts";

/** Long enough that the second run is still going when its two replays become durable. */
const RECORDS = 40_000;

/** The chaos fuzzer's keyed counter over `records` records; the poison is fixed once `marker` exists. */
const counter = (marker: string, records: number) => {
  const layout = generatorLayout(records);
  return defineJob("replay-durable", (env) => {
    env.enableCheckpointing(50);
    env.configure({ sourceBatchSize: 20 });
    env.setRecordFailureStrategy("dead-letter"); // the poison is set aside, then replayed
    const rows: DataStream<ChaosRow> = env
      .fromGenerator((i) => generatorRecord(layout, i), { count: layout.count, splits: SPLITS })
      .keyBy((r) => r.key)
      .process({
        state: { n: valueState<number>() },
        processElement(r, ctx) {
          const step = countRecord(r, ctx.state.n.value() ?? 0, { marker, pace: 2 });
          ctx.state.n.update(step.count);
          if (step.row) ctx.emit(step.row);
        },
      });
    rows.uid("counter").sinkTo("counts");
  });
};

/** One `riffle run` of the job in `dir`, in this process. */
function start(dir: string, records = RECORDS) {
  const job = counter(join(dir, "fixed"), records);
  const sd = openStateDir(join(dir, "state"), { create: true, job: job.name });
  const output = new FileOutputStore({
    out: join(dir, "out.jsonl"),
    ...stateDirDlq(join(dir, "state")),
    progress: join(dir, "state", "output.json"),
    run: new Date().toISOString(),
  });
  const stop = new AbortController();
  const rt = new EmbeddedRuntime(job, {
    parallelism: 2,
    store: sd.stateStore,
    checkpoints: sd.checkpointStore,
    output,
    signal: stop.signal,
  });
  const ran = rt.run();
  return {
    rt,
    output,
    async stop() {
      stop.abort();
      await ran;
      sd.close();
    },
    async finish() {
      await ran;
      sd.close();
    },
  };
}

async function until<T>(get: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out");
}

/** Committed `n` rows per poison key. */
function poisonRows(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const file = join(dir, "out.jsonl");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  for (const line of text.split("\n").filter(Boolean)) {
    const { value } = JSON.parse(line) as { value: ChaosRow };
    if (value.key.startsWith("x") && value.n !== undefined) out.set(value.key, (out.get(value.key) ?? 0) + 1);
  }
  return out;
}

describe("embedded dead-letter replay across a crash", () => {
  it("sends an unmarked replay again with its sequence numbers: processed once, while a new replay time would double it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-replay-"));
    const first = start(dir);
    const letters = await until(async () => {
      const l = await first.output.deadLetters("replay-durable");
      return l.length >= 2 ? l.slice(0, 2) : undefined;
    });
    writeFileSync(join(dir, "fixed"), "");
    const now = Date.now();
    const done = await first.rt.replay(letters, now);
    expect(done.replayed).toEqual(letters.map((d) => d.id));
    expect(done.checkpoint).toBeGreaterThan(0);
    // The run dies before it marks the letters replayed.
    await first.stop();
    const keys = letters.map((d) => (d.value as ChaosRow).key);
    expect(keys.map((k) => poisonRows(dir).get(k))).toEqual([1, 1]);

    const second = start(dir);
    const again = await second.rt.replay(letters, now);
    expect(again.replayed).toEqual(done.replayed);
    // One letter under a new replay time: a new replay, taken again.
    const other = letters.slice(0, 1) as StoredDeadLetter[];
    await second.rt.replay(other, now + 1);
    await second.finish();
    expect(keys.map((k) => poisonRows(dir).get(k))).toEqual([2, 1]);
  }, 120_000);
});
