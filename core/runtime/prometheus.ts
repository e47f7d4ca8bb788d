/**
 * The embedded runtime's metrics in the Prometheus text exposition format (0.0.4):
 * the same figures the AWS task functions publish as EMF (records in and out,
 * committed segments, dead letters, batches, per task partition), the backlog per
 * task, and the last completed checkpoint. `riffle dev` serves it at `/metrics`, and
 * `riffle run --metrics-port` too.
 */

import type { EmbeddedRuntime } from "./embedded.ts";

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Readonly<Record<string, string | number>>;

const COUNTERS = [
  ["riffle_records_in_total", "recordsIn", "Records a task partition took in (EMF RecordsIn)."],
  ["riffle_records_out_total", "recordsOut", "Records a task partition sent downstream (EMF RecordsOut)."],
  ["riffle_segments_committed_total", "segments", "Segments a task partition committed (EMF SegmentsCommitted)."],
  ["riffle_dead_letters_total", "deadLetters", "Records set aside as dead letters (EMF DeadLetters)."],
  ["riffle_batches_total", "batches", "Batches a task partition ran."],
] as const;

function escapeLabel(v: string | number): string {
  return String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function sample(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",");
  return `${name}{${l}} ${Number.isFinite(value) ? value : 0}`;
}

function family(name: string, type: "counter" | "gauge", help: string, samples: readonly string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

/** The runtime's metrics as Prometheus text. */
export function prometheusText(runtime: EmbeddedRuntime): string {
  const job = runtime.plan.job;
  const runners = runtime.taskRunners;
  const lines: string[] = [];
  for (const [name, stat, help] of COUNTERS) {
    const samples = runners.map((r) => sample(name, { job, task: r.task.id, partition: r.partition }, r.stats[stat]));
    lines.push(...family(name, "counter", help, samples));
  }
  const backlog = runtime.progress().map((p) => sample("riffle_backlog", { job, task: p.task }, p.backlog));
  lines.push(...family("riffle_backlog", "gauge", "Messages waiting for a task.", backlog));
  const last = runtime.lastCheckpoint;
  const checkpoint = (name: string, help: string, value: number | undefined) =>
    lines.push(...family(name, "gauge", help, value === undefined ? [] : [sample(name, { job }, value)]));
  checkpoint("riffle_last_checkpoint_id", "The last completed checkpoint.", last?.id);
  checkpoint("riffle_last_checkpoint_duration_ms", "Its duration (EMF CheckpointDuration).", last?.durationMs);
  checkpoint("riffle_last_checkpoint_bytes", "Bytes its epoch wrote (EMF CheckpointBytes).", last?.bytes);
  checkpoint("riffle_generation", "The job's generation.", runtime.generation);
  return `${lines.join("\n")}\n`;
}
