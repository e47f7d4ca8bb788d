/** `riffle run`: runs a job on the embedded runtime. */

import { createWriteStream, type WriteStream } from "node:fs";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { appendDeadLetters } from "./dlq.ts";
import { loadJob } from "./load-job.ts";
import { compact, ProgressLine } from "./progress.ts";

/** Options of `riffle run`. */
export interface RunOptions {
  readonly out?: string;
  readonly parallelism?: number;
  readonly workDir: string;
  readonly progress?: boolean;
  /** `jsonl` (default) streams records as they commit; `table` prints one table per sink at the end. */
  readonly format?: "jsonl" | "table";
}

/** Runs `file`'s job; resolves with the process exit code. */
export async function runCommand(file: string, o: RunOptions): Promise<number> {
  const job = await loadJob(file);
  const started = new Date();
  const stop = new AbortController();
  let out: WriteStream | undefined;
  const counts = new Map<string, number>();
  const tables = new Map<string, unknown[]>();
  const write = (line: string) => {
    if (out) out.write(line);
    else process.stdout.write(line);
  };
  const rt = new EmbeddedRuntime(job, {
    ...(o.parallelism === undefined ? {} : { parallelism: o.parallelism }),
    signal: stop.signal,
    onOutput: (sink, values) => {
      counts.set(sink, (counts.get(sink) ?? 0) + values.length);
      if (o.format === "table") {
        const rows = tables.get(sink) ?? [];
        rows.push(...values);
        tables.set(sink, rows);
        return;
      }
      let chunk = "";
      for (const value of values) chunk += `${JSON.stringify({ sink, value })}\n`;
      write(chunk);
    },
  });
  if (o.out) out = createWriteStream(o.out);
  const progress = new ProgressLine(rt);
  if (o.progress !== false) progress.start();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write("\nriffle: stopping after the current batch (Ctrl-C again to force)\n");
    stop.abort();
  };
  process.on("SIGINT", onSigint);
  const t0 = performance.now();
  let code = 0;
  try {
    await rt.run();
  } catch (error) {
    progress.stop();
    process.stderr.write(
      `riffle: job '${job.name}' failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    code = 1;
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
    if (out)
      await new Promise<void>((resolve, reject) =>
        (out as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
  }
  for (const [sink, rows] of tables) printTable(sink, rows);
  appendDeadLetters(o.workDir, job.name, started.toISOString(), rt.deadLetters);
  const secs = (performance.now() - t0) / 1000;
  const records = rt.sourceRecords();
  const sinks = [...counts].map(([s, n]) => `${n} to '${s}'`).join(", ") || "nothing committed";
  const how = rt.finished ? "finished" : stop.signal.aborted ? "stopped" : "ended";
  process.stderr.write(
    `riffle: ${job.name} ${how} in ${secs.toFixed(2)} s · ${compact(records)} source records (${compact(records / Math.max(secs, 1e-3))}/s) · ${sinks}${o.out ? ` → ${o.out}` : ""}\n`,
  );
  const dead = rt.deadLetters.length + rt.queueDeadLetters().length;
  if (dead > 0) {
    process.stderr.write(`riffle: ${dead} record(s) dead-lettered; see \`riffle dlq list ${job.name}\`\n`);
  }
  return code;
}

/** Prints rows as an aligned table, sorted by their first column. */
function printTable(sink: string, rows: readonly unknown[]): void {
  const objs = rows.map((r) =>
    typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r },
  );
  const cols = [...new Set(objs.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  const body = objs.map((r) => cols.map((c) => cell(r[c])));
  body.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? "", undefined, { numeric: true }));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`\n${sink} (${rows.length} rows)\n${line(cols)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const r of body) process.stdout.write(`${line(r)}\n`);
}
