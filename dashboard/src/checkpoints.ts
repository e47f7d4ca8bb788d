/**
 * The checkpoints view: the count completed, the last one, a chart of duration and
 * alignment over time (uPlot), the recent history with abort reasons, and the
 * savepoints, with a form to take one and a button to restore one (after a
 * confirmation).
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { type CheckpointManifest, call, jobPath, type SavepointInfo } from "./api.ts";

const time = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toLocaleTimeString());

/** Duration and alignment of completed checkpoints, by completion time. */
function Chart(props: { checkpoints: readonly CheckpointManifest[] }): VNode {
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const done = props.checkpoints.filter((c) => c.status === "completed" && c.completedAt !== undefined);
  const data: uPlot.AlignedData = [
    done.map((c) => (c.completedAt ?? 0) / 1000),
    done.map((c) => c.durationMs ?? null),
    done.map((c) => c.alignmentMs ?? null),
  ];
  useEffect(() => {
    if (target.current === null) return;
    if (plot.current === null) {
      plot.current = new uPlot(
        {
          width: 720,
          height: 200,
          series: [{}, { label: "duration ms", stroke: "#2563eb" }, { label: "alignment ms", stroke: "#d97706" }],
          axes: [{}, { label: "ms" }],
        },
        data,
        target.current,
      );
    } else plot.current.setData(data);
  });
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="chart" ref=${target}></div>`;
}

function SavepointForm(props: { job: string; onDone: (message: string) => void }): VNode {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const sp = await call<SavepointInfo>(jobPath(props.job, "/savepoints"), { name });
      props.onDone(`savepoint '${sp.name}' taken at checkpoint ${sp.checkpoint}`);
      setName("");
    } catch (err) {
      props.onDone(`savepoint failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="row" onSubmit=${submit}>
    <input name="savepoint" placeholder="savepoint name" required value=${name}
      onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
    <button type="submit" disabled=${busy}>${busy ? "Taking…" : "Take savepoint"}</button>
  </form>`;
}

async function restore(job: string, name: string, onDone: (message: string) => void): Promise<void> {
  if (!window.confirm(`Restore job '${job}' from savepoint '${name}'? Output after it is rolled back.`)) return;
  try {
    const { generation } = await call<{ generation: number }>(jobPath(job, "/restore"), { savepoint: name });
    onDone(`restored from '${name}': generation ${generation}`);
  } catch (err) {
    onDone(`restore failed: ${(err as Error).message}`);
  }
}

/** The checkpoints view. */
export function Checkpoints(props: {
  job: string;
  /** The newest completed checkpoint, from the job's status. */
  last: CheckpointManifest | undefined;
  checkpoints: readonly CheckpointManifest[];
  savepoints: readonly SavepointInfo[];
}): VNode {
  const [message, setMessage] = useState("");
  const last = props.last;
  const aborted = props.checkpoints.filter((c) => c.status === "aborted").length;
  return html`<section>
    <p class="stats">
      <span>last completed: <strong data-testid="last-checkpoint">${last ? `#${last.id}` : "none yet"}</strong></span>
      <span>${last ? `at ${time(last.completedAt)} in ${last.durationMs ?? "?"} ms, ${last.bytes ?? 0} bytes` : ""}</span>
      <span>aborted (recent ${props.checkpoints.length}): ${aborted}</span>
    </p>
    <${Chart} checkpoints=${props.checkpoints} />
    <h3>Savepoints</h3>
    <${SavepointForm} job=${props.job} onDone=${setMessage} />
    ${message && html`<p class="message" role="status">${message}</p>`}
    <table class="savepoints">
      <thead><tr><th>name</th><th>checkpoint</th><th>taken</th><th>values</th><th></th></tr></thead>
      <tbody>
        ${props.savepoints.map(
          (s) => html`<tr data-savepoint=${s.name}>
            <td>${s.name}</td><td>${s.checkpoint}</td><td>${time(s.createdAt)}</td><td>${s.values}</td>
            <td>${s.inPlace ? "" : html`<button onClick=${() => restore(props.job, s.name, setMessage)}>Restore</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <h3>History</h3>
    <table class="history">
      <thead><tr><th>id</th><th>gen</th><th>status</th><th>triggered</th><th>duration</th><th>alignment</th><th>bytes</th><th>reason</th></tr></thead>
      <tbody>
        ${[...props.checkpoints].reverse().map(
          (c) => html`<tr class=${c.status}>
            <td>${c.id}</td><td>${c.generation}</td><td>${c.status}</td><td>${time(c.triggeredAt)}</td>
            <td>${c.durationMs ?? ""}</td><td>${c.alignmentMs ?? ""}</td><td>${c.bytes ?? ""}</td><td>${c.reason ?? ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
