/**
 * The dead-letter view: records an operator set aside after repeated failures,
 * with their errors, and replay of the selected ones (or of every one not yet
 * replayed).
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { call, jobPath, type Snapshot } from "./api.ts";

type Letter = Snapshot["deadLetters"]["records"][number];

const preview = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
};

/** The dead-letter view. */
export function DeadLetterView(props: { job: string; letters: Snapshot["deadLetters"] }): VNode {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [message, setMessage] = useState("");
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const replay = async (ids: string[] | undefined) => {
    try {
      const { replayed } = await call<{ replayed: number }>(jobPath(props.job, "/dlq/replay"), ids ? { ids } : {});
      setMessage(`replayed ${replayed} record${replayed === 1 ? "" : "s"}`);
      setSelected(new Set());
    } catch (err) {
      setMessage(`replay failed: ${(err as Error).message}`);
    }
  };
  const row = (d: Letter) => html`<tr data-letter=${d.id} class=${d.replayedAt === undefined ? "waiting" : "replayed"}>
    <td><input type="checkbox" aria-label=${`select ${d.id}`} disabled=${d.replayedAt !== undefined}
      checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
    <td>${d.operator}</td><td>${d.task}[${d.partition}]</td><td>${d.attempts}</td>
    <td class="error">${d.error}</td><td><code>${preview(d.value)}</code></td>
    <td>${d.replayedAt === undefined ? "" : `replayed ${new Date(d.replayedAt).toLocaleTimeString()}`}</td>
  </tr>`;
  return html`<section>
    <p class="stats">
      <span>dead letters: <strong data-testid="dlq-count">${props.letters.total}</strong></span>
      <span>queue dead letters: ${props.letters.envelopes}</span>
    </p>
    <div class="row">
      <button disabled=${selected.size === 0} onClick=${() => replay([...selected])}>Replay selected</button>
      <button onClick=${() => replay(undefined)}>Replay all</button>
    </div>
    ${message && html`<p class="message" role="status">${message}</p>`}
    <table class="dlq">
      <thead><tr><th></th><th>operator</th><th>partition</th><th>attempts</th><th>error</th><th>value</th><th></th></tr></thead>
      <tbody>${props.letters.records.map(row)}</tbody>
    </table>
  </section>`;
}
