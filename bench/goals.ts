/** Where a benchmark run stands against each goal of the benchmark issue, and the targets of issue 13. */

import type { BenchReport, GoalFigure } from "./report.ts";

const fmt = (x: number, d = 2) => x.toLocaleString("en", { maximumFractionDigits: d });

/** The goals, judged on whatever parts `r` holds. */
export function goals(r: BenchReport): GoalFigure[] {
  const out: GoalFigure[] = [];
  const nexmark = r.nexmark?.queries ?? [];
  {
    const multiples = nexmark.filter((q) => q.multipleOfFlink !== undefined);
    const worst = multiples.reduce<(typeof multiples)[number] | undefined>(
      (w, q) => (w === undefined || (q.multipleOfFlink ?? 0) < (w.multipleOfFlink ?? 0) ? q : w),
      undefined,
    );
    out.push({
      goal: "embedded: at least 2× Flink's published per-core throughput on every Nexmark query",
      measured: worst
        ? `lowest multiple ${fmt(worst.multipleOfFlink ?? 0)}× (${worst.query}) over ${multiples.length} queries`
        : "not measured",
      met: worst ? multiples.every((q) => (q.multipleOfFlink ?? 0) >= 2) : null,
    });
  }
  const sql = (r.sql?.queries ?? []).filter((q) => q.sqlEventsPerSec !== undefined);
  if (r.sql) {
    const both = sql.filter((q) => q.sqlToTs !== undefined);
    const slow = both.filter((q) => (q.sqlToTs ?? 0) < 0.8).map((q) => `${q.query} ${fmt(q.sqlToTs ?? 0)}×`);
    out.push({
      goal: "SQL: at least 0.8× the hand-written TypeScript job on every Nexmark query both have",
      measured: `${both.length - slow.length} of ${both.length} queries${slow.length ? `; below: ${slow.join(", ")}` : ""}`,
      met: both.length ? slow.length === 0 : null,
    });
    const slowCpu = both.filter((q) => (q.sqlToTsCpu ?? 0) < 0.8).map((q) => `${q.query} ${fmt(q.sqlToTsCpu ?? 0)}×`);
    out.push({
      goal: "SQL: at least 0.8× the hand-written TypeScript job on every Nexmark query both have, in CPU time",
      measured: `${both.length - slowCpu.length} of ${both.length} queries${slowCpu.length ? `; below: ${slowCpu.join(", ")}` : ""}`,
      met: both.length ? slowCpu.length === 0 : null,
    });
    const flink = sql.filter((q) => q.multipleOfFlink !== undefined);
    const under = flink
      .filter((q) => (q.multipleOfFlink ?? 0) < 2)
      .map((q) => `${q.query} ${fmt(q.multipleOfFlink ?? 0)}×`);
    out.push({
      goal: "SQL: at least 2× Flink's published per-core throughput on every Nexmark query both have",
      measured: `${flink.length - under.length} of ${flink.length} queries${under.length ? `; below: ${under.join(", ")}` : ""}`,
      met: flink.length ? under.length === 0 : null,
    });
  }
  const aws = r.aws?.queries ?? [];
  {
    const hops = aws.filter((q) => q.dollarsPerMillionEvents.perStatefulHop !== null);
    out.push({
      goal: "AWS path: at most $0.05 per million events per stateful hop at sustained load",
      measured: hops.length
        ? hops.map((q) => `${q.query} $${fmt(q.dollarsPerMillionEvents.perStatefulHop ?? 0, 4)}`).join(", ")
        : "not measured",
      met: hops.length ? hops.every((q) => (q.dollarsPerMillionEvents.perStatefulHop ?? 0) <= 0.05) : null,
    });
    out.push({
      goal: "AWS path: at least 20× cheaper than the naive design",
      measured: aws.length ? aws.map((q) => `${q.query} ${fmt(q.naive.riffleCheaperBy)}×`).join(", ") : "not measured",
      met: aws.length ? aws.every((q) => q.naive.riffleCheaperBy >= 20) : null,
    });
  }
  {
    const cp = r.checkpoint?.embedded;
    const restores = cp?.bySize.map((c) => c.restoreMs) ?? [];
    out.push({
      goal: "the 1M-key checkpoint takes at most 1.5× the 1k-key one (embedded)",
      measured: cp
        ? `${fmt(cp.ratioLargestToSmallest)}× (${cp.bySize.map((c) => `${fmt(c.keys, 0)} keys ${c.checkpointMsMedian} ms`).join(", ")})`
        : "not measured",
      met: cp ? cp.ratioLargestToSmallest <= 1.5 : null,
    });
    const small = restores[0] ?? 0;
    const large = restores.at(-1) ?? 0;
    out.push({
      goal: "restore is independent of state size (embedded; judged as largest ≤ 1.5× smallest, or both under 5 ms)",
      measured: cp ? cp.bySize.map((c) => `${fmt(c.keys, 0)} keys ${c.restoreMs} ms`).join(", ") : "not measured",
      met: cp ? large <= Math.max(1.5 * small, 5) : null,
    });
    const emu = r.checkpoint?.emulators;
    const sizes = emu?.bySize ?? [];
    const range = `${fmt(sizes[0]?.keys ?? 0, 0)}→${fmt(sizes.at(-1)?.keys ?? 0, 0)} keys`;
    out.push({
      goal: "on the emulators too: the largest-state checkpoint at most 1.5× the smallest",
      measured: emu
        ? `${fmt(emu.ratioLargestToSmallest)}× (${sizes.map((c) => `${fmt(c.keys, 0)} keys ${c.checkpointMsMedian} ms`).join(", ")})`
        : "not measured",
      met: emu && sizes.length > 1 ? emu.ratioLargestToSmallest <= 1.5 : null,
    });
    out.push({
      goal: "on the emulators too: restore independent of state size (largest ≤ 1.5× smallest)",
      measured: emu
        ? `${fmt(emu.restoreRatioLargestToSmallest)}× over ${range} (${sizes.map((c) => `${c.restoreMs} ms`).join(", ")})`
        : "not measured",
      met: emu && sizes.length > 1 ? emu.restoreRatioLargestToSmallest <= 1.5 : null,
    });
  }
  out.push(...issue13(r));
  {
    const l = r.latency;
    out.push({
      goal: "embedded p99 latency under 2 × the checkpoint interval",
      measured: l
        ? `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms at ${fmt(l.rate, 0)} records/s, checkpoint every ${l.checkpointIntervalMs} ms`
        : "not measured",
      met: l ? l.p99Ms < 2 * l.checkpointIntervalMs : null,
    });
  }
  return out;
}

/** Issue 13 ("serverless that pays off"): its must-show figures that the benchmark measures. */
function issue13(r: BenchReport): GoalFigure[] {
  const aws = r.aws;
  const idle = aws?.idle;
  const hops = aws?.queries.filter((q) => q.dollarsPerMillionEvents.perStatefulHop !== null) ?? [];
  const bursty = aws?.bursty;
  const active = aws?.activeCoordinator ?? r.awsCoordinator;
  const none = "not measured";
  return [
    {
      goal: "issue 13: idle job at most $0.001 per hour of riffle's own requests, over at least 60 s of idle",
      measured: idle ? `$${fmt(idle.dollarsPerHourOwn, 4)} per hour over ${fmt(idle.seconds)} s` : none,
      met: idle ? idle.dollarsPerHourOwn <= 0.001 && idle.seconds >= 60 : null,
    },
    {
      goal: "issue 13: active coordinator at a 1 s interval at most $0.02 per hour",
      measured: active
        ? `$${fmt(active.dollarsPerHourAtOneRoundPerSecond.total, 4)} per hour at one round a second ($${fmt(active.dollarsPerHour.total, 4)} as run: ${active.rounds} rounds, ${active.checkpoints} checkpoints in ${fmt(active.seconds)} s)` +
          (bursty ? `; bursty day's active hours $${fmt(bursty.coordinatorDollarsPerActiveHour, 4)}` : "")
        : none,
      // Judged at one round a second: as run, a round waits the interval after the last one ended.
      met: active
        ? Math.max(active.dollarsPerHourAtOneRoundPerSecond.total, active.dollarsPerHour.total) <= 0.02
        : null,
    },
    {
      goal: "issue 13: q5 and q7 at most $0.02 per million events per stateful hop, sustained",
      measured: hops.length
        ? hops.map((q) => `${q.query} $${fmt(q.dollarsPerMillionEvents.perStatefulHop ?? 0, 4)}`).join(", ")
        : none,
      met: hops.length ? hops.every((q) => (q.dollarsPerMillionEvents.perStatefulHop ?? 0) <= 0.02) : null,
    },
    {
      goal: "issue 13: at least 25× cheaper than the naive design on q0, q5 and q7",
      measured: aws?.queries.length
        ? aws.queries.map((q) => `${q.query} ${fmt(q.naive.riffleCheaperBy)}×`).join(", ")
        : none,
      met: aws?.queries.length ? aws.queries.every((q) => q.naive.riffleCheaperBy >= 25) : null,
    },
    {
      goal: "issue 13: bursty day (mean 50 events/s, peak 50×) costs less on riffle than Managed Flink at its 2-KPU floor",
      measured: bursty
        ? `riffle $${fmt(bursty.riffle.dollarsPerDay)} a day, Managed Flink floor $${fmt(bursty.flink.floor.dollarsPerDay)}, sized for the peak $${fmt(bursty.flink.peakSized.dollarsPerDay)}`
        : none,
      met: bursty ? bursty.riffleCheaperThanFlinkFloor : null,
    },
  ];
}
