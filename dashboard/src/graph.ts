/**
 * The job graph: one box per task (its id, parallelism and chained operators, its
 * backlog, coloured by it, and its records/s), one arrow per edge labelled with its
 * partitioner; a click on a box opens the task's view. The
 * layout is dagre's (layered, left to right); the page only draws what it placed.
 */

import { Graph, layout } from "@dagrejs/dagre";
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useMemo } from "preact/hooks";
import type { Plan } from "./api.ts";
import { perSecond, type Rates } from "./rates.ts";

const WIDTH = 300;
const LINE = 16;

interface Placed {
  readonly nodes: { id: string; x: number; y: number; height: number }[];
  readonly edges: { from: string; to: string; label: string; points: { x: number; y: number }[] }[];
  readonly width: number;
  readonly height: number;
}

function boxHeight(operators: number): number {
  return 44 + LINE * operators;
}

/** Lays out the plan's tasks and edges. */
export function place(plan: Plan): Placed {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 90, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of plan.tasks) g.setNode(t.id, { width: WIDTH, height: boxHeight(t.operators.length) });
  for (const t of plan.tasks) {
    // Two branches of a forked chain may feed one task: one edge per sending operator.
    for (const o of t.outputs) {
      g.setEdge(t.id, o.to, { label: o.partitioner, width: 70, height: 14 }, `${o.sender} ${o.partitioner}`);
    }
  }
  layout(g);
  const nodes = plan.tasks.map((t) => {
    const n = g.node(t.id);
    return { id: t.id, x: n.x - WIDTH / 2, y: n.y - n.height / 2, height: n.height };
  });
  const edges = g.edges().map((e: { v: string; w: string; name?: string }) => {
    const label = g.edge(e) as { label: string; points: { x: number; y: number }[] };
    return { from: e.v, to: e.w, label: label.label, points: label.points };
  });
  const size = g.graph();
  return { nodes, edges, width: size.width ?? 0, height: size.height ?? 0 };
}

/** A backlog's colour class: idle, some, or building up. */
export function pressure(backlog: number): string {
  if (backlog <= 0) return "ok";
  return backlog < 1000 ? "busy" : "high";
}

function rateText(r: Rates[string] | undefined): string {
  return r === undefined ? "" : ` · ${perSecond(r.in)} in · ${perSecond(r.out)} out`;
}

function taskBox(
  plan: Plan,
  id: string,
  at: { x: number; y: number; height: number },
  backlog: number,
  rates: Rates,
  onSelect: (task: string) => void,
): VNode {
  const { x, y, height } = at;
  const t = plan.tasks.find((task) => task.id === id);
  if (t === undefined) return html``;
  const tags = [t.isSource ? "source" : "", t.keyed ? "keyed" : ""].filter(Boolean).join(" · ");
  return html`<g class=${`task ${pressure(backlog)}`} data-task=${t.id} transform=${`translate(${x},${y})`}
    role="button" tabindex="0" aria-label=${`open task ${t.id}`} onClick=${() => onSelect(t.id)}
    onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && onSelect(t.id)}>
    <rect width=${WIDTH} height=${height} rx="6" />
    <text x="10" y="18" class="title">${t.id} ×${t.parallelism}</text>
    <text x="10" y="34" class="meta">${tags ? `${tags} · ` : ""}backlog ${backlog}${rateText(rates[t.id])}</text>
    ${t.operators.map(
      (o, i) => html`<text x="18" y=${52 + i * LINE} class="op" data-operator=${o.uid}>${o.kind}: ${o.name}</text>`,
    )}
  </g>`;
}

/** The job graph, with each task's backlog from the latest status; clicking a task opens its view. */
export function JobGraph(props: {
  plan: Plan;
  backlog: Readonly<Record<string, number>>;
  rates: Rates;
  onSelect: (task: string) => void;
}): VNode {
  const placed = useMemo(() => place(props.plan), [props.plan]);
  return html`<svg
    class="graph"
    role="img"
    aria-label=${`job graph of ${props.plan.job}`}
    width=${placed.width}
    height=${placed.height}
    viewBox=${`0 0 ${placed.width} ${placed.height}`}
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto">
        <path class="arrowhead" d="M0,0 L10,5 L0,10 z" />
      </marker>
    </defs>
    ${placed.edges.map((e) => {
      const d = e.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x},${p.y}`).join(" ");
      const mid = e.points[Math.floor(e.points.length / 2)] ?? { x: 0, y: 0 };
      return html`<g class="edge" data-edge=${`${e.from}->${e.to}`}>
        <path d=${d} marker-end="url(#arrow)" />
        <text x=${mid.x} y=${mid.y - 4} text-anchor="middle">${e.label}</text>
      </g>`;
    })}
    ${placed.nodes.map((n) => taskBox(props.plan, n.id, n, props.backlog[n.id] ?? 0, props.rates, props.onSelect))}
  </svg>`;
}
