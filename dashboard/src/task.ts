/**
 * The task view: one row per partition of the task clicked in the graph, with its
 * records in and out (and their rates), backlog, last segment, watermark, keyed
 * values and last error, from the snapshot's partition reports. On AWS a report is
 * as of the newest checkpoint the partition acked; a partition that has not
 * reported yet shows dashes.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import type { Plan, Snapshot } from "./api.ts";
import { perSecond, type Rates } from "./rates.ts";

type Report = NonNullable<Snapshot["status"]["partitions"]>[number];

/** A watermark as a time when it looks like one (ms since the epoch), else the number. */
export function watermarkText(w: number | undefined): string {
  if (w === undefined) return "—";
  return w > 1e11 && w < 1e14 ? new Date(w).toISOString().replace("T", " ").replace("Z", "") : String(w);
}

const rate = (r: number | undefined) => (r === undefined ? "" : ` (${perSecond(r)})`);

function row(task: string, p: number, r: Report | undefined, rates: Rates): VNode {
  const rt = rates[`${task}#${p}`];
  if (r === undefined) {
    return html`<tr data-partition=${p}><td>${p}</td><td colspan="7">no report yet</td></tr>`;
  }
  return html`<tr data-partition=${p}>
    <td>${p}</td>
    <td class="num" data-col="in">${r.recordsIn}${rate(rt?.in)}</td>
    <td class="num" data-col="out">${r.recordsOut}${rate(rt?.out)}</td>
    <td class="num" data-col="backlog">${r.backlog ?? "—"}</td>
    <td class="num" data-col="segment">${r.segment}</td>
    <td data-col="watermark">${watermarkText(r.watermark)}</td>
    <td class="num" data-col="keys">${r.stateKeys}</td>
    <td class="error" data-col="error">${r.lastError ? `${r.lastError.message} (${new Date(r.lastError.at).toLocaleTimeString()})` : ""}</td>
  </tr>`;
}

/** The view of one task's partitions. */
export function TaskView(props: {
  plan: Plan;
  task: string;
  status: Snapshot["status"] | undefined;
  rates: Rates;
  onBack: () => void;
}): VNode {
  const t = props.plan.tasks.find((x) => x.id === props.task);
  if (t === undefined) return html`<p class="error">no task '${props.task}'</p>`;
  const reports = new Map((props.status?.partitions ?? []).filter((r) => r.task === t.id).map((r) => [r.partition, r]));
  const parallelism = Math.max(t.parallelism, ...[...reports.keys()].map((p) => p + 1));
  const taskBacklog = props.status?.backlog[t.id] ?? 0;
  // Per-partition backlogs where the runtime counts them (embedded); else the task's queue, shared by its partitions (SQS).
  const perPartition = [...reports.values()].some((r) => r.backlog !== undefined);
  return html`<section class="task-view" data-task-view=${t.id}>
    <div class="row">
      <button onClick=${props.onBack}>← Graph</button>
      <h2>${t.id} ×${t.parallelism}</h2>
    </div>
    <p class="about">${t.operators.map((o) => `${o.kind}: ${o.name}`).join(" → ")}
      ${perPartition ? "" : html` · backlog ${taskBacklog} in the task's queue (shared by its partitions)`}</p>
    <table class="partitions">
      <thead><tr><th>partition</th><th>records in</th><th>records out</th><th>backlog</th><th>last segment</th>
        <th>watermark</th><th>keyed values</th><th>last error</th></tr></thead>
      <tbody>${Array.from({ length: parallelism }, (_, p) => row(t.id, p, reports.get(p), props.rates))}</tbody>
    </table>
  </section>`;
}
