/** Renders a plan as readable text (`riffle plan`). */

import type { OperatorPlan, Plan, TaskOutput } from "./plan.ts";

/** The task graph as text: one block per task, its chain, and its edges. */
export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  const n = plan.tasks.length;
  lines.push(`job ${plan.job}: ${n} task${n === 1 ? "" : "s"}, maxParallelism ${plan.maxParallelism}`);
  for (const t of plan.tasks) {
    const tags = [t.isSource ? "source" : "", t.keyed ? "keyed" : ""].filter(Boolean).join(", ");
    lines.push("");
    lines.push(`task ${t.id}  ×${t.parallelism}${tags ? `  (${tags})` : ""}`);
    const label = (o: OperatorPlan) => (o.name === o.uid ? o.uid : `${o.name} [${o.uid}]`);
    const forked = t.operators.some((o, i) => o.input !== undefined && o.input !== i - 1);
    if (!forked) lines.push(`  chain: ${t.operators.map(label).join(" → ")}`);
    else {
      // A forked chain: one line per operator, after the one that feeds it.
      lines.push("  chain:");
      for (const o of t.operators) {
        const from = o.input === undefined ? undefined : t.operators[o.input];
        lines.push(`    ${label(o)}${from ? ` ← ${from.uid}` : ""}`);
      }
    }
    for (const i of t.inputs) lines.push(`  in  ← ${i.sender} (${i.partitioner})`);
    const from = (o: TaskOutput) => (o.sender === t.id ? "" : ` from ${o.sender.slice(t.id.length + 1)}`);
    for (const o of t.outputs) lines.push(`  out → ${o.to} (${o.partitioner})${from(o)}`);
  }
  return lines.join("\n");
}
