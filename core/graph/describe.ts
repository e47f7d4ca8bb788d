/** Renders a plan as readable text (`riffle plan`). */

import type { Plan } from "./plan.ts";

/** The task graph as text: one block per task, its chain, and its edges. */
export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  const n = plan.tasks.length;
  lines.push(`job ${plan.job}: ${n} task${n === 1 ? "" : "s"}, maxParallelism ${plan.maxParallelism}`);
  for (const t of plan.tasks) {
    const tags = [t.isSource ? "source" : "", t.keyed ? "keyed" : ""].filter(Boolean).join(", ");
    lines.push("");
    lines.push(`task ${t.id}  ×${t.parallelism}${tags ? `  (${tags})` : ""}`);
    lines.push(`  chain: ${t.operators.map((o) => (o.name === o.uid ? o.uid : `${o.name} [${o.uid}]`)).join(" → ")}`);
    for (const i of t.inputs) lines.push(`  in  ← ${i.from} (${i.partitioner})`);
    for (const o of t.outputs) lines.push(`  out → ${o.to} (${o.partitioner})`);
  }
  return lines.join("\n");
}
