/**
 * Two runs the SQL operator suites make of a SQL script against rows DuckDB computed: under the
 * seeded fault simulation, and stopped with a savepoint in the middle then restored from it.
 * Either way the sink's folded output must equal the expected rows, column by position.
 */
import { expect } from "vitest";
import type { Job, StreamExecutionEnvironment } from "../../core/api/environment.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { sqlJob } from "../../core/sql/session.ts";
import { type Oracle, openOracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { nexmarkScript } from "../sql/nexmark/script.ts";

type Rows = Record<string, unknown>[];

/** A job that ran to its end, and the state store it ran on. */
export interface Ended {
  readonly job: Job;
  readonly store: InMemoryStateStore;
}

/** DuckDB over the first `events` Nexmark events of seed 7 at `rate` events/s (the generator's default rate without). */
export function nexmarkOracle(events: number, rate?: number): Promise<Oracle> {
  const cfg = nexmarkConfig({ events, seed: 7, ...(rate === undefined ? {} : { rate }) });
  return openOracle(Array.from({ length: events }, (_, i) => nexmarkEvent(i, cfg)));
}

/**
 * Runs `script` as job `name` with small batches and envelopes and a checkpoint every 5 ms under
 * the fault simulation (crashes, duplicates, failovers; one seed), and expects sink `out` to
 * fold to `expected` with at least one fault injected.
 */
export async function expectExactlyOnceUnderFaults(name: string, script: string, expected: Rows): Promise<void> {
  const faulty = (env: StreamExecutionEnvironment) => {
    env.configure({ sourceBatchSize: 97, maxRecordsPerEnvelope: 32 });
    env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
  };
  const job = sqlJob(name, script, faulty);
  const r = await simulate({ name, job, check: (out) => positionalDiff(out, expected) }, 1);
  expect(r.diffs).toEqual([]);
  expect(
    r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers,
  ).toBeGreaterThan(0);
}

/**
 * Runs `script` as job `name` until sink `out` has emitted more than `fraction` of `expected`'s
 * length in records, stops it with a savepoint, restores from that, and expects all the records
 * to fold to `expected`. The stores copy what is written, so a value changed in place after it
 * was written would show. `rows`: the sink gets rows, not a changelog, so the first run must
 * also have stopped short of all of them. Returns the job and its state store, for a look at the
 * state it ended with.
 */
export async function expectSavepointInTheMiddle(
  name: string,
  script: string,
  expected: Rows,
  { fraction, rows }: { readonly fraction: number; readonly rows: boolean },
): Promise<Ended> {
  const job = sqlJob(name, script, (env) => {
    env.configure({ sourceBatchSize: 50 });
    env.enableCheckpointing(10);
  });
  const opts = {
    clock: new ManualClock(),
    store: new InMemoryStateStore({ copy: true }),
    checkpoints: new InMemoryCheckpointStore(),
    batchTimeMs: 1,
  };
  const out: unknown[] = [];
  const stop = new AbortController();
  const first = new EmbeddedRuntime(job, {
    ...opts,
    signal: stop.signal,
    stopWithSavepoint: "middle",
    onOutput: (_sink, values) => {
      out.push(...values);
      if (out.length > expected.length * fraction) stop.abort();
    },
  });
  await first.run();
  expect(first.finished).toBe(false);
  const before = out.length;
  expect(before).toBeGreaterThan(expected.length * fraction);
  if (rows) expect(before).toBeLessThan(expected.length);
  await new EmbeddedRuntime(job, {
    ...opts,
    fromSavepoint: "middle",
    onOutput: (_sink, values) => void out.push(...values),
  }).run();
  expect(out.length).toBeGreaterThan(before);
  expect(positionalDiff(new Map([["out", out]]), expected)).toEqual([]);
  return { job, store: opts.store };
}

/**
 * {@link expectSavepointInTheMiddle} over the first `events` Nexmark events at a slow `rate`
 * (events/s), so that windows close before the stop and stay open across it: `sql` (its sink
 * table and INSERT, after the Nexmark tables) against DuckDB's `duck` over the same events.
 * Returns the job and its state store.
 */
export async function expectSavepointOverSlowNexmark(
  name: string,
  { events, rate }: { readonly events: number; readonly rate: number },
  sql: string,
  duck: string,
  rows: boolean,
): Promise<Ended> {
  const oracle = await nexmarkOracle(events, rate);
  try {
    const tables = nexmarkScript("q0", events, rate).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "");
    return await expectSavepointInTheMiddle(name, `${tables}${sql}`, await oracle.runSql(duck), {
      fraction: 0.3,
      rows,
    });
  } finally {
    oracle.close();
  }
}
