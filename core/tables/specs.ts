/** The dynamic tables a job declares: its sinks marked as tables (`toTable`, `'connector' = 'riffle'`). */

import type { JobGraph } from "../graph/graph.ts";
import type { TableSpec } from "../ports/table-store.ts";

const cache = new WeakMap<JobGraph, ReadonlyMap<string, TableSpec>>();

/** Sink name → spec of every dynamic table of `graph`. */
export function tableSpecs(graph: JobGraph): ReadonlyMap<string, TableSpec> {
  let specs = cache.get(graph);
  if (!specs) {
    const found = new Map<string, TableSpec>();
    for (const n of graph.nodes) if (n.op.kind === "sink" && n.op.table) found.set(n.op.sink, n.op.table);
    specs = found;
    cache.set(graph, specs);
  }
  return specs;
}

/** The `CREATE TABLE` column list of `spec` (its columns and primary key). */
export function tableColumns(spec: TableSpec): string {
  const pk = spec.primaryKey ? `, PRIMARY KEY (${spec.primaryKey.map((c) => `\`${c}\``).join(", ")}) NOT ENFORCED` : "";
  return spec.columns + pk;
}
