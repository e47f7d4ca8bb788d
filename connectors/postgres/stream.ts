/**
 * One logical replication stream (pgoutput) on a slot: decoded transactions, and
 * the logical decoding messages of transactions that wrote nothing else, queued in
 * commit order for the reader to take. It
 * confirms to the slot only the LSN it is told to (after a checkpoint completes),
 * never what it merely received, so a restore can always read again from the
 * checkpoint's position.
 */

import pg from "pg";
import type { Pgoutput } from "pg-logical-replication";
import { PgoutputPlugin } from "pg-logical-replication";
import { PostgresConnectorError, postgresError, sqlState } from "./errors.ts";
import { compareLsn, lsnValue } from "./lsn.ts";

/** A row change of the stream, as pgoutput decoded it. */
export type RawChange = Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete;

/** What the stream delivers, in commit order. */
export type StreamUnit =
  | { readonly kind: "tx"; readonly changes: RawChange[]; readonly truncated: boolean; readonly endLsn: string }
  /** A transaction that wrote only logical decoding messages (`lsn`: its commit's end). */
  | { readonly kind: "message"; readonly prefix: string; readonly content: string; readonly lsn: string };

/** Where a stream reads from. */
export interface StreamTarget {
  readonly url: string;
  readonly slot: string;
  readonly publication: string;
  /** Resume point: transactions that committed before it are skipped. `undefined`: the slot's confirmed position. */
  readonly from: string | undefined;
}

/** The open stream of each slot (by server and name) in this process: a second reader of a slot takes it over. */
const open = new Map<string, ReplicationStream>();

const STATUS_INTERVAL_MS = 5_000;

/** A running `START_REPLICATION` on a slot. */
export class ReplicationStream {
  private readonly client: pg.Client;
  private readonly units: StreamUnit[] = [];
  private tx: { changes: RawChange[]; truncated: boolean; messages: { prefix: string; content: string }[] } | undefined;
  private confirmed = "0/0";
  private failure: Error | undefined;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  /** Called once when units arrive (see {@link waitForUnits}). */
  private wake: (() => void) | undefined;
  /** The server's WAL end, from its keepalives. */
  serverLsn = "0/0";

  private constructor(client: pg.Client) {
    this.client = client;
    this.timer = setInterval(() => this.sendStatus(false), STATUS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Starts streaming `target`'s slot, taking it over from an earlier stream of this process. */
  static async start(target: StreamTarget): Promise<ReplicationStream> {
    const id = `${target.url}#${target.slot}`;
    await open.get(id)?.close();
    for (let attempt = 0; ; attempt++) {
      const client = new pg.Client({ connectionString: target.url, replication: "database" } as pg.ClientConfig);
      try {
        await client.connect();
      } catch (e) {
        throw postgresError(`connecting for replication on slot '${target.slot}'`, e);
      }
      const stream = new ReplicationStream(client);
      try {
        await stream.begin(target);
        open.set(id, stream);
        return stream;
      } catch (e) {
        await stream.close();
        // A killed process's walsender may hold the slot for a moment.
        if (sqlState(e) === "55006" && attempt < 100) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw postgresError(`starting replication on slot '${target.slot}'`, e);
      }
    }
  }

  private begin(target: StreamTarget): Promise<void> {
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [target.publication], messages: true });
    // biome-ignore lint/suspicious/noExplicitAny: pg's Connection is not in its public types
    const connection = (this.client as any).connection as import("node:events").EventEmitter;
    this.client.on("error", (e) => this.fail(e));
    connection.on("copyData", ({ chunk }: { chunk: Buffer }) => {
      try {
        if (chunk[0] === 0x77) this.decoded(plugin.parse(chunk.subarray(25)) as Pgoutput.Message);
        else if (chunk[0] === 0x6b) {
          this.serverLsn = readLsn(chunk, 1);
          if (chunk.readInt8(17) === 1) this.sendStatus(false);
        }
      } catch (e) {
        this.fail(e);
      }
    });
    const started = new Promise<void>((resolve, reject) => {
      connection.once("replicationStart", () => resolve());
      const sql = `START_REPLICATION SLOT "${target.slot}" LOGICAL ${target.from ?? "0/0"} (proto_version '1', publication_names '${target.publication}', messages 'true')`;
      this.client.query(sql).then(
        () => this.fail(new Error("the replication stream ended")),
        (e) => {
          reject(e);
          this.fail(e);
        },
      );
    });
    return started;
  }

  private decoded(msg: Pgoutput.Message): void {
    switch (msg.tag) {
      case "begin":
        this.tx = { changes: [], truncated: false, messages: [] };
        return;
      case "insert":
      case "update":
      case "delete":
        this.tx?.changes.push(msg);
        return;
      case "truncate":
        if (this.tx) this.tx.truncated = true;
        return;
      case "commit": {
        const tx = this.tx;
        this.tx = undefined;
        if (!tx) return;
        const endLsn = msg.commitEndLsn ?? msg.commitLsn ?? "0/0";
        if (tx.changes.length > 0 || tx.truncated) this.queued({ kind: "tx", ...tx, endLsn });
        // A transaction of messages alone (the reader's watermarks) is ordered by its commit.
        else for (const m of tx.messages) this.queued({ kind: "message", ...m, lsn: endLsn });
        return;
      }
      case "message":
        if (msg.transactional)
          this.tx?.messages.push({ prefix: msg.prefix, content: Buffer.from(msg.content).toString("utf8") });
        return;
      default:
        return; // relation, type, origin: the decoder keeps what it needs
    }
  }

  /** Resolves when units are queued, the stream failed, or after `ms`. */
  waitForUnits(ms: number): Promise<void> {
    if (this.units.length > 0 || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private queued(unit: StreamUnit): void {
    this.units.push(unit);
    this.wake?.();
  }

  /** The units received since the last take, in commit order; throws if the stream failed. */
  take(): StreamUnit[] {
    if (this.failure) throw new PostgresConnectorError("the replication stream failed", { cause: this.failure });
    return this.units.splice(0, this.units.length);
  }

  /** Confirms to the slot that everything before `lsn` is processed for good (only ever raises it). */
  confirm(lsn: string): void {
    if (compareLsn(lsn, this.confirmed) <= 0) return;
    this.confirmed = lsn;
    this.sendStatus(false);
  }

  /** A standby status update: written = flushed = applied = the confirmed LSN. */
  private sendStatus(ping: boolean): void {
    if (this.closed || this.failure) return;
    const v = lsnValue(this.confirmed);
    const buf = Buffer.alloc(34);
    buf.write("r", 0);
    for (const at of [1, 9, 17]) buf.writeBigUInt64BE(v, at);
    buf.writeBigInt64BE(BigInt(Date.now() - 946_684_800_000) * 1000n, 25);
    buf.writeInt8(ping ? 1 : 0, 33);
    // biome-ignore lint/suspicious/noExplicitAny: pg's Connection is not in its public types
    (this.client as any).connection.sendCopyFromChunk(buf);
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    this.failure ??= e instanceof Error ? e : new Error(String(e));
    this.wake?.();
  }

  /** Ends the stream (the slot stays). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const [id, s] of open) if (s === this) open.delete(id);
    await this.client.end().catch(() => {});
  }
}

function readLsn(buf: Buffer, at: number): string {
  return `${buf.readUInt32BE(at).toString(16).toUpperCase()}/${buf
    .readUInt32BE(at + 4)
    .toString(16)
    .toUpperCase()}`;
}
