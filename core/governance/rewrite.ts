/**
 * Governed access in the SQL planner: {@link applyGovernance} rewrites every table
 * scan of a logical plan into a filter (the principal's row policy) and a masking
 * projection directly over the scan. Views are expanded to scans when bound, and
 * subqueries and joins are made of scans, so no query shape reaches a table's rows
 * any other way: whatever the query computes, it computes over the rows the principal
 * may see, with the masked values. A WHERE on a masked column compares the masked
 * value, so a query cannot test for the original either.
 *
 * Reading a table needs `read:<table>` (the audit table needs `auditor`). Columns the
 * classifier marks sensitive are masked too ({@link GovernanceContext.sensitive})
 * unless the principal holds `unmask`; a mask the policy names wins over the
 * automatic one.
 */
import { unsupported } from "../sql/errors.ts";
import type { BoundExpr } from "../sql/expr.ts";
import type { Rel, TableDef } from "../sql/logical.ts";
import { autoMask, bindPolicyExpr, PolicyError } from "./policy-sql.ts";
import { authorize, hasGrant, type Principal } from "./principal.ts";
import type { SensitiveKind } from "./sensitive.ts";

/** The audit table's name in every governed catalog. */
export const AUDIT_TABLE = "riffle_audit";

/** Who reads, and what the classifier found. */
export interface GovernanceContext {
  readonly principal: Principal;
  /** The sensitive columns of a table, by column name (none when absent). */
  readonly sensitive?: (table: TableDef) => ReadonlyMap<string, SensitiveKind>;
}

/** What the rewrite applied, for the audit. */
export interface GovernanceReport {
  /** Tables read, each once, in plan order. */
  readonly tables: string[];
  /** The row predicates applied, as `table: predicate`. */
  readonly predicates: string[];
  /** Masked columns, as `table.column`. */
  readonly masked: string[];
}

/** The grant reading `table` needs. */
export function readGrant(table: string): string {
  return table === AUDIT_TABLE ? "auditor" : `read:${table}`;
}

/**
 * `rel` with every scan governed for `ctx.principal`, and what was applied.
 * @throws ForbiddenError when the principal lacks the read grant of a table the plan reads
 * @throws PolicyError when a policy's SQL does not bind over its table
 */
export function applyGovernance(rel: Rel, ctx: GovernanceContext): { rel: Rel; report: GovernanceReport } {
  const report: GovernanceReport = { tables: [], predicates: [], masked: [] };
  return { rel: govern(rel, ctx, report), report };
}

function govern(rel: Rel, ctx: GovernanceContext, report: GovernanceReport): Rel {
  switch (rel.kind) {
    case "scan":
      return governScan(rel, ctx, report);
    case "join":
      return { ...rel, left: govern(rel.left, ctx, report), right: govern(rel.right, ctx, report) };
    case "lookup-join": {
      const input = govern(rel.input, ctx, report);
      const scan = governScan({ kind: "scan", table: rel.table, fields: rel.table.physical }, ctx, report);
      if (scan.kind !== "scan")
        throw unsupported(rel.table.pos, `a lookup join of table '${rel.table.name}', which has a row policy or masks`);
      return { ...rel, input };
    }
    default:
      return { ...rel, input: govern(rel.input, ctx, report) } as Rel;
  }
}

function governScan(scan: Extract<Rel, { kind: "scan" }>, ctx: GovernanceContext, report: GovernanceReport): Rel {
  const { table, fields } = scan;
  const { principal } = ctx;
  authorize(principal, readGrant(table.name), `read table '${table.name}'`);
  if (!report.tables.includes(table.name)) report.tables.push(table.name);
  const policy = principal.policies?.[table.name];
  const where = (what: string) => `${what} of principal '${principal.name}' on table '${table.name}'`;
  const filter = policy?.rows === undefined ? undefined : bindPolicyExpr(policy.rows, fields, where("row policy"));
  if (policy?.rows !== undefined) report.predicates.push(`${table.name}: ${policy.rows}`);
  const masks = new Map<number, BoundExpr>();
  for (const [column, text] of Object.entries(policy?.masks ?? {})) {
    const index = fields.findIndex((f) => f.name === column);
    if (index < 0)
      throw new PolicyError("validation", undefined, `${where("a mask")}: the table has no column '${column}'`);
    masks.set(index, bindPolicyExpr(text, fields, where(`mask of column '${column}'`), fields[index]));
  }
  if (!hasGrant(principal, "unmask")) {
    for (const [column, kind] of ctx.sensitive?.(table) ?? []) {
      const index = fields.findIndex((f) => f.name === column);
      if (index >= 0 && !masks.has(index))
        masks.set(index, autoMask(index, fields[index] as (typeof fields)[number], kind));
    }
  }
  for (const i of [...masks.keys()].sort((a, b) => a - b)) report.masked.push(`${table.name}.${fields[i]?.name}`);
  if (filter === undefined && masks.size === 0) return scan;
  const projects = fields.map((f, index): BoundExpr => masks.get(index) ?? { kind: "input", index, type: f.type });
  return { kind: "calc", input: scan, projects, fields, ...(filter ? { filter } : {}) };
}
