/**
 * A forked chain on the AWS runtime's emulators: one source task runs two branches
 * whose records meet again in one keyed task over two channels (`src/evens#p`,
 * `src/odds#p`: their own SQS dedup ids, seqs and watermarks), with crashes injected
 * before and after commit and after send, and the committed output is exactly once.
 */

import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { awsLocalJobs, readOutput } from "../support/aws-local-harness.ts";
import { everyFifthCall, InjectedCrash, withCrashes } from "../support/faults.ts";

const jobs = awsLocalJobs();
const N = 300;
type Running = { k: string; side: string; n: number };

/** Evens and odds of one generator, counted per key and side by one keyed co-process. */
const forked = defineJob("forked", (env) => {
  env.enableCheckpointing(200);
  env.configure({ sourceBatchSize: 20 });
  const src = env.fromGenerator((i) => i, { count: N, splits: 2 }).uid("src");
  const evens = src
    .filter((i) => i % 2 === 0)
    .map((i) => ({ k: `k${i % 5}`, i }))
    .uid("evens");
  const odds = src
    .filter((i) => i % 2 === 1)
    .map((i) => ({ k: `k${i % 5}`, i }))
    .uid("odds");
  const count = (side: "even" | "odd", n: { value(): number | undefined; update(v: number): void }, k: string) => {
    const next = (n.value() ?? 0) + 1;
    n.update(next);
    return { k, side, n: next };
  };
  evens
    .connect(odds)
    .keyBy(
      (e) => e.k,
      (o) => o.k,
    )
    .process<Running, { even: ReturnType<typeof valueState<number>>; odd: ReturnType<typeof valueState<number>> }>({
      state: { even: valueState<number>(), odd: valueState<number>() },
      processElement1(e, ctx) {
        ctx.emit(count("even", ctx.state.even, e.k));
      },
      processElement2(o, ctx) {
        ctx.emit(count("odd", ctx.state.odd, o.k));
      },
    })
    .uid("joined")
    .sinkTo("counts");
});

/** Each key and side's running counts 1..n, sorted. */
function expected(): Record<string, number[]> {
  const n: Record<string, number> = {};
  for (let i = 0; i < N; i++) {
    const key = `k${i % 5}/${i % 2 === 0 ? "even" : "odd"}`;
    n[key] = (n[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(n).map(([k, c]) => [k, Array.from({ length: c }, (_, j) => j + 1)]));
}

function grouped(rows: readonly Running[]): Record<string, number[]> {
  const by: Record<string, number[]> = {};
  for (const r of rows) {
    const key = `${r.k}/${r.side}`;
    by[key] = [...(by[key] ?? []), r.n];
  }
  for (const ns of Object.values(by)) ns.sort((a, b) => a - b);
  return by;
}

describe("aws-local: a forked chain", () => {
  it("runs both branches in the source task, joins them on two channels, exactly once under crashes", async () => {
    const { policy, crashes } = everyFifthCall();
    const l = await jobs.start({
      job: forked,
      parallelism: 2,
      taskPorts: (ports) => withCrashes(ports, policy),
      fatal: (error) => error instanceof InjectedCrash,
    });
    expect(l.plan.tasks.map((t) => t.id)).toEqual(["src", "joined"]);
    const counts = () => readOutput<Running>(l.ports.output, "forked", "counts");
    // The bounded job finishes: every segment is then inside a published checkpoint, so a late duplicate would show.
    await l.coordinatorDone;
    expect(grouped(await counts())).toEqual(expected());
    for (const point of ["before-commit", "after-commit", "after-send"])
      expect(crashes[point] ?? 0, point).toBeGreaterThan(0);
  }, 120_000);
});
