/**
 * The reader of a Postgres CDC split: one replication stream, and the incremental
 * snapshot interleaved with it (DBLog). Every change of the stream is passed on as
 * it comes; chunk by chunk, the table's rows are read between two watermarks and
 * passed on when the high watermark comes through the stream, less the keys that
 * changed between the watermarks. An upsert of the changelog by primary key thus
 * ends with the table's contents, and no chunk ever locks a row.
 *
 * The position is where the stream resumes (an LSN at a commit boundary), the last
 * primary key the snapshot passed on, and whether the snapshot is done; a chunk in
 * flight is not in it, so a restore reads that chunk again with new watermarks.
 * Reads pass on whole transactions and whole chunks. The slot is confirmed at the
 * position of a checkpoint once that checkpoint completes, never earlier.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { SourceChunk, SourceContext, SplitReader } from "../../core/api/source.ts";
import { type ChangeRecord, changesOf, touchedKeys } from "./changes.ts";
import { PostgresSetupError, postgresError } from "./errors.ts";
import { compareLsn, maxLsn } from "./lsn.ts";
import { describeTable, ensureSlot, type TableInfo } from "./setup.ts";
import { emitMessage, HIGH_WATERMARK, keyOf, keyString, LOW_WATERMARK, readChunk, TICK } from "./snapshot.ts";
import { ReplicationStream, type StreamUnit } from "./stream.ts";

/** A split's position: JSON, stored in riffle's checkpoints. */
export interface CdcPosition {
  /** Resume the stream here (undefined: at the slot's confirmed position). */
  readonly lsn?: string;
  /** The last primary key the snapshot passed on (null: none yet). */
  readonly key: readonly unknown[] | null;
  /** True once every chunk is passed on. */
  readonly snapshotted: boolean;
}

/** What the reader needs of the source's options. */
export interface CdcReaderOptions {
  readonly url: string;
  readonly table: string;
  readonly slot: string;
  readonly publication: string;
  readonly chunkSize: number;
  readonly snapshot: boolean;
  readonly until?: string;
  readonly pollMs: number;
}

/** A chunk between its watermarks: rows not yet passed on, by key, in key order. */
interface Open {
  readonly id: string;
  readonly rows: Map<string, Record<string, unknown>>;
  readonly lastKey: unknown[] | null;
  readonly last: boolean;
  inWindow: boolean;
}

/** How long a read waits for a chunk's watermarks to come through the stream. */
const CHUNK_WAIT_MS = 200;

/** Reads one CDC split; see the file's comment. */
export class CdcReader implements SplitReader<ChangeRecord> {
  private readonly options: CdcReaderOptions;
  private readonly context: SourceContext | undefined;
  private pos: CdcPosition;
  private client: pg.Client | undefined;
  private stream: ReplicationStream | undefined;
  private table: TableInfo | undefined;
  private chunk: Open | undefined;
  private units: StreamUnit[] = [];
  private ticked = false;
  /** Positions at the ends of epochs, by checkpoint id. */
  private readonly epochs = new Map<number, CdcPosition>();

  constructor(options: CdcReaderOptions, position: unknown, context?: SourceContext) {
    this.options = options;
    this.context = context;
    this.pos = (position as CdcPosition | undefined) ?? { key: null, snapshotted: !options.snapshot };
  }

  async read(max: number): Promise<SourceChunk<ChangeRecord>> {
    const from = this.pos;
    try {
      const chunk = await this.readFrom(max);
      this.ticked &&= chunk.records.length === 0;
      return chunk;
    } catch (e) {
      // What this read took from the stream is lost with it: start again from where it began.
      this.pos = from;
      await this.close();
      throw postgresError("postgres-cdc: reading", e);
    }
  }

  private async readFrom(max: number): Promise<SourceChunk<ChangeRecord>> {
    const { stream, table } = await this.open();
    const out: ChangeRecord[] = [];
    if (!this.pos.snapshotted && !this.chunk) await this.beginChunk(table);
    const deadline = Date.now() + CHUNK_WAIT_MS;
    while (out.length < max) {
      if (this.units.length === 0) this.units = stream.take();
      const unit = this.units.shift();
      if (unit) {
        this.apply(unit, table, out);
        continue;
      }
      if (!this.chunk || Date.now() >= deadline) break;
      await stream.waitForUnits(deadline - Date.now());
    }
    if (this.finished()) {
      await this.close();
      return { records: out, position: this.pos, done: true };
    }
    if (out.length === 0 && !this.chunk) {
      if (this.pos.snapshotted && this.options.until !== undefined && !this.ticked) {
        await emitMessage(this.client as pg.Client, TICK, this.options.slot); // moves the stream on to the end LSN
        this.ticked = true;
      }
      const now = this.context?.currentProcessingTime?.();
      if (now !== undefined)
        return { records: out, position: this.pos, done: false, idle: true, wakeAt: now + this.options.pollMs };
    }
    return { records: out, position: this.pos, done: false };
  }

  /** True when the options' end LSN is reached (and the snapshot is done). */
  private finished(): boolean {
    const until = this.options.until;
    return (
      until !== undefined && this.pos.snapshotted && this.pos.lsn !== undefined && compareLsn(this.pos.lsn, until) >= 0
    );
  }

  /** Passes one unit of the stream on into `out`, reconciling the open chunk. */
  private apply(unit: StreamUnit, table: TableInfo, out: ChangeRecord[]): void {
    if (unit.kind === "tx") {
      if (unit.truncated)
        throw new PostgresSetupError(
          `postgres-cdc: table '${table.name}' was truncated, which CDC does not support yet`,
        );
      for (const change of unit.changes) {
        if (this.chunk?.inWindow) for (const k of touchedKeys(change, table)) this.chunk.rows.delete(k);
        out.push(...changesOf(change, table));
      }
      this.pos = { ...this.pos, lsn: unit.endLsn };
      return;
    }
    // Every transaction that commits before a message came before it, every later one commits after it.
    this.pos = { ...this.pos, lsn: this.pos.lsn === undefined ? unit.lsn : maxLsn(this.pos.lsn, unit.lsn) };
    const chunk = this.chunk;
    if (!chunk || unit.content !== chunk.id) return; // a watermark of a chunk before a restore
    if (unit.prefix === LOW_WATERMARK) chunk.inWindow = true;
    else if (unit.prefix === HIGH_WATERMARK) {
      for (const row of chunk.rows.values()) out.push({ kind: "+I", row });
      this.pos = { ...this.pos, key: chunk.lastKey ?? this.pos.key, snapshotted: chunk.last };
      this.chunk = undefined;
    }
  }

  private async beginChunk(table: TableInfo): Promise<void> {
    const c = await readChunk(this.client as pg.Client, table, this.pos.key, this.options.chunkSize, randomUUID());
    if (!c) return; // a transaction stayed open: stream on, try again at the next read
    const rows = new Map<string, Record<string, unknown>>();
    for (const row of c.rows) rows.set(keyString(keyOf(table, row)), row);
    const lastRow = c.rows.at(-1);
    this.chunk = { id: c.id, rows, lastKey: lastRow ? keyOf(table, lastRow) : null, last: c.last, inWindow: false };
  }

  /** Connects, checks the table, creates the slot if needed and starts the stream at the position. */
  private async open(): Promise<{ stream: ReplicationStream; table: TableInfo }> {
    if (this.stream && this.table) return { stream: this.stream, table: this.table };
    const { url, slot, publication } = this.options;
    if (!this.client) {
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => {}); // a broken connection fails the next query
      try {
        await client.connect();
      } catch (e) {
        throw postgresError("postgres-cdc: connecting", e);
      }
      this.client = client;
      await client.query("SET synchronous_commit = on"); // the watermarks reach the stream at once
    }
    this.table ??= await describeTable(this.client, this.options.table);
    await ensureSlot(this.client, this.table, slot, publication);
    this.stream = await ReplicationStream.start({ url, slot, publication, from: this.pos.lsn });
    return { stream: this.stream, table: this.table };
  }

  snapshotState(checkpointId: number, position: unknown): void {
    if (position !== undefined) this.epochs.set(checkpointId, position as CdcPosition);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    let lsn: string | undefined;
    for (const [n, p] of this.epochs) {
      if (n > checkpointId) continue;
      if (p.lsn !== undefined) lsn = lsn === undefined ? p.lsn : maxLsn(lsn, p.lsn);
      this.epochs.delete(n);
    }
    if (lsn !== undefined) this.stream?.confirm(lsn);
  }

  async close(): Promise<void> {
    const { stream, client } = this;
    this.stream = undefined;
    this.client = undefined;
    this.chunk = undefined;
    this.units = [];
    await stream?.close();
    await client?.end().catch(() => {});
  }
}
