/** Prints rows as an aligned table (`riffle run --format table`). */

/** Prints `rows` of `sink`, sorted by their first column. */
export function printTable(sink: string, rows: readonly unknown[]): void {
  const [head = "", rule = "", ...body] = tableLines(rows, undefined, true);
  process.stdout.write(`\n${sink} (${rows.length} rows)\n${head}\n${rule}\n`);
  for (const r of body) process.stdout.write(`${r}\n`);
}

/**
 * `rows` as aligned lines: the header, a rule, then one line per row (sorted by the first column
 * with `sorted`); `columns` default to the rows' keys.
 */
export function tableLines(rows: readonly unknown[], columns?: readonly string[], sorted = false): string[] {
  const objs = rows.map((r) =>
    typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r },
  );
  const cols = columns ?? [...new Set(objs.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  const body = objs.map((r) => cols.map((c) => cell(r[c])));
  if (sorted) body.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? "", undefined, { numeric: true }));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
}
