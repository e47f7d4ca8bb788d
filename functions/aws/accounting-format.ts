/** Renders a {@link AccountingSnapshot} as plain-text tables for the end of a run. */

import type { AccountingSnapshot, AccountingTotals } from "./accounting-snapshot.ts";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const fine = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

/** Pads cells into aligned columns: the first `left` columns left-aligned, the rest right-aligned. */
function table(rows: readonly (readonly string[])[], left: number): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i < left ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

const opt = (v: number | undefined, f: Intl.NumberFormat, mark = false) =>
  v === undefined ? "-" : `${mark && v > 0 ? "~" : ""}${f.format(v)}`;

function totalsRow(label: string, t: AccountingTotals): string[] {
  return [
    label,
    "",
    integer.format(t.requests),
    integer.format(t.billedRequests),
    integer.format(t.requestBytes),
    integer.format(t.responseBytes),
    opt(t.readUnits, decimal, t.estimated),
    opt(t.writeUnits, decimal, t.estimated),
  ];
}

/**
 * The AWS requests by service and operation, Lambda usage by function, the totals,
 * and (when given) the totals per million events. `~` marks estimated capacity.
 */
export function formatAccounting(snapshot: AccountingSnapshot, perMillion?: AccountingTotals): string {
  const rows: string[][] = [["service", "operation", "requests", "billed", "req bytes", "resp bytes", "RCU", "WCU"]];
  for (const [service, ops] of Object.entries(snapshot.services)) {
    for (const [op, s] of Object.entries(ops)) {
      rows.push([
        service,
        op,
        integer.format(s.requests),
        opt(s.billedRequests, integer),
        integer.format(s.requestBytes),
        integer.format(s.responseBytes),
        opt(s.readUnits, decimal, s.estimated === true),
        opt(s.writeUnits, decimal, s.estimated === true),
      ]);
    }
  }
  rows.push(totalsRow("total", snapshot.totals));
  if (perMillion) rows.push(totalsRow("per 1M events", perMillion));
  const lines = ["AWS requests", ...table(rows, 2)];
  const fns = Object.entries(snapshot.lambda);
  if (fns.length > 0) {
    const l: string[][] = [["function", "invocations", "billed ms", "GB-s"]];
    for (const [fn, s] of fns) {
      l.push([fn, integer.format(s.invocations), integer.format(s.durationMs), fine.format(s.gbSeconds)]);
    }
    const t = snapshot.totals;
    l.push([
      "total",
      integer.format(t.lambdaInvocations),
      integer.format(t.lambdaDurationMs),
      fine.format(t.lambdaGbSeconds),
    ]);
    if (perMillion) {
      const p = perMillion;
      l.push([
        "per 1M events",
        integer.format(p.lambdaInvocations),
        integer.format(p.lambdaDurationMs),
        fine.format(p.lambdaGbSeconds),
      ]);
    }
    lines.push("", "Lambda", ...table(l, 1));
  }
  if (snapshot.totals.estimated) lines.push("", "~ some DynamoDB capacity estimated from item sizes");
  return lines.join("\n");
}
