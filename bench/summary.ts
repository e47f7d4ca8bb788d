/** The readable summary of a benchmark report (stderr, without `--json`). */

import { serviceTotals } from "./aws-accounting.ts";
import type { BenchReport } from "./report.ts";

const n = (x: number, d = 0) => x.toLocaleString("en", { maximumFractionDigits: d });

/** Lines summarizing every part of `r`. */
export function summarize(r: BenchReport): string {
  const lines: string[] = [
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores, node ${r.machine.node}; 1-min load average by part (start→end): ${Object.entries(
      r.loadAverage,
    )
      .map(([p, [a, b]]) => `${p} ${a}→${b}`)
      .join(", ")}`,
  ];
  for (const j of r.embedded?.jobs ?? []) {
    lines.push(`${j.name}: ${n(j.recordsPerSecond)} records/s (${n(j.records)} in ${j.seconds} s)`);
  }
  for (const q of r.nexmark?.queries ?? []) {
    lines.push(
      `nexmark ${q.query}: ${n(q.riffleEventsPerSec)} events/s (${q.multipleOfFlink}× Flink's ${n(q.flinkPerCore ?? 0)}/core)` +
        (q.baselineEventsPerSec ? `; JS loop ${n(q.baselineEventsPerSec)}/s, ratio ${q.ratioToBaseline}` : ""),
    );
  }
  for (const q of r.sql?.queries ?? []) {
    lines.push(
      q.sqlEventsPerSec === undefined
        ? `sql ${q.query}: refused (${q.refused})`
        : `sql ${q.query}: ${n(q.sqlEventsPerSec)} events/s` +
            (q.tsEventsPerSec
              ? `; TypeScript ${n(q.tsEventsPerSec)}/s, SQL/TS ${q.sqlToTs} (in CPU time ${q.sqlToTsCpu})`
              : "") +
            (q.flinkPerCore ? `; ${q.multipleOfFlink}× Flink's ${n(q.flinkPerCore)}/core` : ""),
    );
  }
  for (const c of r.checkpoint?.embedded.bySize ?? []) {
    lines.push(
      `checkpoint @ ${n(c.keys)} keys: median ${c.checkpointMsMedian} ms (p90 ${c.checkpointMsP90}), alignment ${c.alignmentMsMedian} ms, restore ${c.restoreMs} ms`,
    );
  }
  for (const c of r.checkpoint?.emulators?.bySize ?? []) {
    lines.push(
      `checkpoint on emulators @ ${n(c.keys)} keys (loaded in ${c.loadSeconds} s): median ${c.checkpointMsMedian} ms (p90 ${c.checkpointMsP90}), alignment ${c.alignmentMsMedian} ms, restore ${c.restoreMs} ms, recovery ${c.recoveryMs} ms`,
    );
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `latency at ${n(l.rate)} records/s, checkpoint every ${l.checkpointIntervalMs} ms: p50 ${l.p50Ms} ms, p90 ${l.p90Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${n(l.measured)} records)`,
    );
  }
  if (r.cdc) {
    const c = r.cdc;
    lines.push(
      `cdc (Postgres → Postgres, ${n(c.rows)} rows): snapshot ${n(c.snapshotRowsPerSec)} rows/s, streaming ${n(c.streamingChangesPerSec)} changes/s, commit to commit p50 ${c.latencyP50Ms} ms, p99 ${c.latencyP99Ms} ms (checkpoint every ${c.checkpointIntervalMs} ms)`,
    );
  }
  if (r.cdcDynamodb) {
    const c = r.cdcDynamodb;
    lines.push(
      `cdc (DynamoDB Streams → DynamoDB on DynamoDB Local, ${n(c.rows)} items): snapshot ${n(c.snapshotRowsPerSec)} items/s, streaming ${n(c.streamingChangesPerSec)} changes/s, put to sink p50 ${c.latencyP50Ms} ms, p99 ${c.latencyP99Ms} ms (checkpoint every ${c.checkpointIntervalMs} ms)`,
    );
  }
  if (r.warehouse) {
    const w = r.warehouse;
    for (const s of w.stores)
      lines.push(
        `warehouse ${s.store} (${n(w.rows)} rows): lookup p50 ${s.lookupMsP50} ms, p99 ${s.lookupMsP99} ms; snapshot query ${s.queryMs} ms, ${n(s.rowsScannedPerSecond)} rows/s scanned`,
      );
    lines.push(
      `warehouse DuckDB, same aggregate over the same rows: ${w.duckdb.queryMs} ms, ${n(w.duckdb.rowsScannedPerSecond)} rows/s (load ${w.duckdb.loadMs} ms, not counted)`,
    );
  }
  const a = r.aws?.activeCoordinator ?? r.awsCoordinator;
  if (a) {
    lines.push(
      `aws-local active coordinator: $${a.dollarsPerHourAtOneRoundPerSecond.total} per hour at one round a second; as run (${a.roundsPerSecond} rounds/s) $${a.dollarsPerHour.total} per hour (Step Functions ${a.dollarsPerHour.stepFunctions}, Lambda ${a.dollarsPerHour.lambda}, DynamoDB ${a.dollarsPerHour.dynamodb}, SQS ${a.dollarsPerHour.sqs}); ${a.rounds} rounds, ${a.checkpoints} checkpoints in ${a.seconds} s`,
    );
  }
  if (r.aws) {
    const i = r.aws.idle;
    lines.push(
      `aws-local idle: ${i.rounds} coordinator rounds in ${i.seconds} s; fixed $/h at checkpoint 1 s ${i.fixedDollarsPerHour["1s"]}, 10 s ${i.fixedDollarsPerHour["10s"]}, 60 s ${i.fixedDollarsPerHour["60s"]}`,
    );
    for (const q of r.aws.queries) {
      const own = q.perMillionEvents.ownByService;
      const sqs = own.SQS ?? serviceTotals({}).SQS;
      const ddb = own.DynamoDB;
      const d = q.dollarsPerMillionEvents;
      lines.push(
        `aws-local ${q.query}: ${n(q.events)} events, ${q.wallSeconds} s, ${n(q.eventsPerSec)} events/s; per 1M events: ` +
          `SQS ${n(sqs?.requests ?? 0)} req (${n(sqs?.billedRequests ?? 0)} billed) + ${n(q.perMillionEvents.modelledReceives)} receives (model), ` +
          `DynamoDB ${n(ddb?.requests ?? 0)} req ${n(ddb?.writeUnits ?? 0)} WRU ${n(ddb?.readUnits ?? 0)} RRU, ` +
          `Lambda ${n(q.lambdaRun.tasks.invocations + q.lambdaRun.coordinator.invocations)} invocations in the run; ` +
          `$${d.sustained.total}/1M sustained ($${d.measured.total} as measured), per stateful hop ${d.perStatefulHop ?? "n/a"}; ` +
          `naive $${q.naive.dollarsPerMillionEvents} (${q.naive.riffleCheaperBy}×); Flink at full KPU $${q.flink.dollarsPerMillionEventsAtFullKpu}`,
      );
    }
  }
  const b = r.aws?.bursty;
  if (b) {
    lines.push(
      `aws-local bursty day (${n(b.run.events)} events, each hour ${b.run.secondsPerHour} s): $${b.dollarsPerIdleHour.total} per idle hour, ` +
        `$${b.dollarsPerMillionEvents.total} per 1M events; the full day (${n(b.profile.dayEvents)} events) $${b.riffle.dollarsPerDay} ` +
        `(idle ${b.riffle.idle}, events ${b.riffle.events}, storage ${b.riffle.storage}; cross-check ${b.riffle.scaledRun}); ` +
        `Managed Flink sized for the peak $${b.flink.peakSized.dollarsPerDay} (${b.flink.peakSized.kpus} KPU), floor $${b.flink.floor.dollarsPerDay}`,
    );
  }
  for (const g of r.goals ?? []) {
    lines.push(`goal ${g.met === null ? "—" : g.met ? "met" : "NOT met"}: ${g.goal}: ${g.measured}`);
  }
  return `${lines.join("\n")}\n`;
}
