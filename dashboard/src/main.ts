/**
 * The riffle dashboard: asks for an API key once (kept in session storage), then
 * follows the job's live feed and shows its graph, a task's partitions,
 * checkpoints and dead letters.
 * The job comes from the page's `?job=` parameter (`riffle dev` prints the link).
 */

import { html } from "htm/preact";
import { render, type VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, call, clearKey, follow, jobPath, type Plan, type Snapshot, savedKey, saveKey } from "./api.ts";
import { Checkpoints } from "./checkpoints.ts";
import { DeadLetterView } from "./dlq.ts";
import { JobGraph } from "./graph.ts";
import { type Rates, RateTracker } from "./rates.ts";
import { TaskView } from "./task.ts";
import "./style.css";

type View = "graph" | "task" | "checkpoints" | "dlq";

function Login(props: { job: string; error: string; onKey: (key: string) => void }): VNode {
  const [key, setKey] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    props.onKey(key);
  };
  return html`<form class="login" onSubmit=${submit}>
    <h2>riffle · ${props.job}</h2>
    <label>API key <input type="password" name="key" autocomplete="off" required value=${key}
      onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} /></label>
    <button type="submit">Log in</button>
    ${props.error && html`<p class="error" role="alert">${props.error}</p>`}
  </form>`;
}

const dollars = (x: number) => `$${x.toPrecision(3)}`;

function costText(status: Snapshot["status"] | undefined): string {
  const c = status?.cost;
  if (!c) return "";
  const perM = c.perMillionEvents ? `${dollars(c.perMillionEvents.total)} per 1M events` : "no events yet";
  const idle = c.perIdleHour ? `${dollars(c.perIdleHour.total)} per idle hour` : "idle hour not measured yet";
  return ` · cost ${dollars(c.dollars.total)} so far, ${perM}, ${idle}`;
}

function Dashboard(props: { job: string; onRefused: (message: string) => void }): VNode {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [rates, setRates] = useState<{ tasks: Rates; partitions: Rates }>({ tasks: {}, partitions: {} });
  const tracker = useRef(new RateTracker());
  const [view, setView] = useState<View>("graph");
  const [task, setTask] = useState("");
  const [problem, setProblem] = useState("");
  useEffect(() => {
    const refused = (e: ApiError) => {
      if (e.status === 401 || e.status === 403) props.onRefused(`key refused (${e.status}): ${e.message}`);
      else setProblem(e.message);
    };
    call<Plan>(jobPath(props.job, "/plan")).then(setPlan, refused);
    return follow(
      props.job,
      (s) => {
        setRates(tracker.current.add(s));
        setSnap(s);
        setProblem("");
      },
      refused,
    );
  }, [props.job]);
  const status = snap?.status;
  const open = (id: string) => {
    setTask(id);
    setView("task");
  };
  const tab = (v: View, label: string) =>
    html`<button class=${view === v ? "tab active" : "tab"} onClick=${() => setView(v)}>${label}</button>`;
  return html`<header>
      <h1>riffle · <span data-testid="job">${props.job}</span></h1>
      <span class="status">${status ? `generation ${status.generation}${status.finished ? " · finished" : ""}${status.failed ? ` · failed: ${status.failed}` : ""}${costText(status)}` : "connecting…"}</span>
      <nav>${tab("graph", "Graph")}${task && tab("task", `Task ${task}`)}${tab("checkpoints", "Checkpoints")}${tab("dlq", "Dead letters")}</nav>
    </header>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    <main>
      ${view === "graph" && (plan ? html`<${JobGraph} plan=${plan} backlog=${status?.backlog ?? {}} rates=${rates.tasks} onSelect=${open} />` : html`<p>loading the graph…</p>`)}
      ${view === "task" && plan && html`<${TaskView} plan=${plan} task=${task} status=${status} rates=${rates.partitions} onBack=${() => setView("graph")} />`}
      ${view === "checkpoints" && html`<${Checkpoints} job=${props.job} last=${status?.lastCheckpoint} checkpoints=${snap?.checkpoints ?? []} savepoints=${snap?.savepoints ?? []} />`}
      ${view === "dlq" && html`<${DeadLetterView} job=${props.job} letters=${snap?.deadLetters ?? { total: 0, records: [], envelopes: 0 }} />`}
    </main>`;
}

function App(): VNode {
  const job = new URLSearchParams(location.search).get("job") ?? "";
  const [key, setKey] = useState(savedKey());
  const [error, setError] = useState("");
  if (job === "") return html`<p class="error">Open this page with <code>?job=&lt;job id&gt;</code>.</p>`;
  if (key === null) {
    return html`<${Login} job=${job} error=${error} onKey=${(k: string) => {
      saveKey(k);
      setError("");
      setKey(k);
    }} />`;
  }
  return html`<${Dashboard} job=${job} onRefused=${(message: string) => {
    clearKey();
    setError(message);
    setKey(null);
  }} />`;
}

render(html`<${App} />`, document.getElementById("app") as HTMLElement);
