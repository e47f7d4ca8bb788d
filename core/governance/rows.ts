/**
 * Governed access for read paths that do not plan a query: a point lookup and a
 * changelog follow rows of one table directly. {@link rowGovernor} compiles the same
 * filter and masks that {@link applyGovernance} puts over a scan, so the rule has one
 * implementation whichever path reads.
 */
import { compile, projector, type Row } from "../sql/expr.ts";
import type { TableDef } from "../sql/logical.ts";
import { applyGovernance, type GovernanceContext, type GovernanceReport } from "./rewrite.ts";

/** A table's rows as a principal may see them. */
export interface RowGovernor {
  /** The row (physical columns, in order) masked, or undefined when the row policy hides it. */
  readonly view: (row: Row) => Row | undefined;
  /** What is applied, for the audit. */
  readonly report: GovernanceReport;
}

/**
 * The governor of `table`'s rows for `ctx.principal`.
 * @throws ForbiddenError when the principal lacks the table's read grant
 */
export function rowGovernor(table: TableDef, ctx: GovernanceContext): RowGovernor {
  const { rel, report } = applyGovernance({ kind: "scan", table, fields: table.physical }, ctx);
  if (rel.kind !== "calc") return { view: (row) => row, report };
  const test = rel.filter ? compile(rel.filter) : undefined;
  const project = projector(rel.projects.map(compile));
  return { view: (row) => (test !== undefined && test(row) !== true ? undefined : project(row)), report };
}
