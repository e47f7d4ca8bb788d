/** `riffle nexmark run`: runs a Nexmark query bounded and writes its final rows as JSON lines. */

import { createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import type { NexmarkGenerateOptions } from "../core/nexmark/cli.ts";
import { readNexmarkEvents } from "../core/nexmark/events-file.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { type NexmarkInput, type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";
import { NEXMARK_QUERIES } from "./parse.ts";

const QUERY_DIR = join(import.meta.dirname, "../examples/nexmark");

/** Loads query `q` from examples/nexmark/. */
export async function loadQuery(q: string): Promise<NexmarkQuery> {
  const file = join(QUERY_DIR, `${q}.ts`);
  if (!NEXMARK_QUERIES.includes(q) || !existsSync(file)) {
    throw new UsageError(`unknown query '${q}': expected one of ${NEXMARK_QUERIES.join(", ")}`);
  }
  return ((await import(file)) as { query: NexmarkQuery }).query;
}

/** Options of {@link nexmarkRunCommand}. */
export interface NexmarkRunOptions {
  readonly query: string;
  readonly input: NexmarkGenerateOptions | { readonly file: string };
  readonly parallelism?: number;
  readonly out?: string;
}

/** Runs the query; resolves with the number of rows written. */
export async function nexmarkRunCommand(o: NexmarkRunOptions): Promise<number> {
  const query = await loadQuery(o.query);
  // A file is read and checked in full first: a bad line is a usage error, not a failing source.
  const input: NexmarkInput = "file" in o.input ? { records: readNexmarkEvents(o.input.file) } : o.input;
  const out = o.out ? createWriteStream(o.out) : process.stdout;
  let rows = 0;
  const rt = new EmbeddedRuntime(nexmarkJob(`nexmark-${o.query}`, query, input), {
    ...(o.parallelism === undefined ? {} : { parallelism: o.parallelism }),
    onOutput: (_sink, values) => {
      let chunk = "";
      for (const v of values) chunk += `${JSON.stringify(v)}\n`;
      rows += values.length;
      out.write(chunk);
    },
  });
  const t0 = performance.now();
  await rt.run();
  if (o.out)
    await new Promise<void>((resolve, reject) =>
      (out as NodeJS.WritableStream).end(() => resolve()).on?.("error", reject),
    );
  const secs = (performance.now() - t0) / 1000;
  const events = rt.sourceRecords();
  process.stderr.write(
    `riffle: nexmark ${o.query}: ${events} events in ${secs.toFixed(2)} s (${Math.round(events / Math.max(secs, 1e-3))}/s) → ${rows} rows\n`,
  );
  return rows;
}
