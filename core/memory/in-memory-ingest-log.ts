/**
 * In-memory implementation of the {@link IngestLog} port: one array per
 * (job, source, partition). Values are kept as given (not copied), so a caller must
 * not mutate a value after appending it.
 */

import type { AppendedRange, IngestedRecord, IngestLog } from "../ports/ingest-log.ts";

/** The in-memory ingest log. */
export class InMemoryIngestLog implements IngestLog {
  private readonly logs = new Map<string, unknown[]>();

  private log(job: string, source: string, partition: number): unknown[] {
    const id = JSON.stringify([job, source, partition]);
    let log = this.logs.get(id);
    if (!log) {
      log = [];
      this.logs.set(id, log);
    }
    return log;
  }

  /** Appends synchronously (so concurrent appends are serialized); an empty append returns `{ first: head + 1, last: head }`. */
  async append(job: string, source: string, partition: number, values: readonly unknown[]): Promise<AppendedRange> {
    const log = this.log(job, source, partition);
    const first = log.length + 1;
    for (const v of values) log.push(v);
    return { first, last: log.length };
  }

  async read(job: string, source: string, partition: number, after: number, max: number): Promise<IngestedRecord[]> {
    const log = this.logs.get(JSON.stringify([job, source, partition]));
    if (!log || max < 1) return [];
    const from = Math.max(0, Math.floor(after));
    const out: IngestedRecord[] = [];
    for (let i = from; i < log.length && out.length < max; i++) out.push({ seq: i + 1, value: log[i] });
    return out;
  }

  async head(job: string, source: string, partition: number): Promise<number> {
    return this.logs.get(JSON.stringify([job, source, partition]))?.length ?? 0;
  }
}
