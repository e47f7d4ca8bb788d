/**
 * The state of one aws-local chaos sequence: the `riffle dev --runtime aws-local`
 * child on the shared emulators (its own `--prefix`), its HTTP API, what was
 * ingested (in the order the ingest log accepted it), the savepoints and
 * restores, and the dead letters replayed.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { seededRandom } from "../../core/ml/random.ts";
import { type GenRow, readGenRows } from "./aws-output.ts";
import type { ChaosRecord } from "./dataset.ts";
import { type Child, spawnRiffle, tail, waitExit } from "./proc.ts";
import { Journal } from "./report.ts";

/** The job file the aws-local driver runs. */
const INGEST_JOB = "test/fixtures/chaos-ingest.ts";
/** Its job name, ingest source and sink, and the API key `riffle dev` accepts. */
const JOB = "chaos-ingest";
const SOURCE = "events";
const SINK = "counts";
const KEY = "chaos-key";

/** Where the shared emulators are. */
export interface Emulators {
  readonly sqs: string;
  readonly dynamo: string;
  readonly client: DynamoDBClient;
}

/** Settings of one aws-local sequence. */
export interface AwsConfig {
  readonly seed: number;
  readonly ops: number;
  readonly dir: string;
  /** How long the final phase waits for the job to drain and for each probe (default 60 s; a start may take twice that, at least 90 s). */
  readonly patienceMs?: number;
  readonly echo?: (line: string) => void;
}

/** An accepted ingest request. */
interface Accepted {
  readonly key: string;
  readonly first: number;
  readonly ids: readonly number[];
}

/** A savepoint the API answered 201 for. */
export interface TakenSavepoint {
  /** Committed output when it was requested. */
  readonly snapshot: readonly GenRow[];
  /** Generation of its checkpoint (`undefined` until known). */
  gen: number | undefined;
  readonly checkpoint: number;
}

/** See the module comment. */
export class AwsWorld {
  readonly cfg: AwsConfig;
  readonly emu: Emulators;
  readonly j: Journal;
  readonly rng: () => number;
  readonly prefix: string;
  readonly marker: string;
  readonly p: number;
  child: Child | undefined;
  /** Every `riffle dev` this sequence started, oldest first (their stderr is the seed's server log). */
  readonly children: Child[] = [];
  url = "";
  nextId = 1;
  nextName = 1;
  readonly accepted: Accepted[] = [];
  /** Ids of end (probe) records, per key. */
  readonly probes = new Map<string, number[]>();
  readonly savepoints = new Map<string, TakenSavepoint>();
  readonly burned = new Set<string>();
  readonly restored = new Set<string>();
  /** Generation → savepoint restored into it. */
  readonly restores = new Map<number, string>();
  /** Indexes of the operations during which a restore was answered. */
  readonly restoreOps: number[] = [];
  /** Dead-letter ids replayed (and when, as an op index). */
  readonly replayed = new Map<string, number>();
  readonly normalKeys: string[];

  constructor(cfg: AwsConfig, emu: Emulators) {
    this.cfg = cfg;
    this.emu = emu;
    this.j = new Journal(cfg.echo);
    this.rng = seededRandom(cfg.seed * 104729 + 3);
    this.prefix = `chaos${cfg.seed}r${Math.floor(Math.random() * 1e6)}`;
    this.marker = join(cfg.dir, "poison-fixed");
    this.p = 1 + Math.floor(this.rng() * 2);
    this.normalKeys = Array.from({ length: 6 }, (_, i) => `k${i}`);
  }

  /** A random integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  /** Whether the poison is fixed. */
  fixed(): boolean {
    return existsSync(this.marker);
  }

  /** Starts `riffle dev` and waits for its HTTP API. */
  async start(): Promise<void> {
    const args = ["dev", INGEST_JOB, "--runtime", "aws-local", "--port", "0", "--prefix", this.prefix];
    const child = spawnRiffle([...args, "-p", String(this.p)], {
      RIFFLE_API_KEYS: KEY,
      AWS_ENDPOINT_URL_SQS: this.emu.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: this.emu.dynamo,
      CHAOS_MARKER: this.marker,
    });
    this.child = child;
    this.children.push(child);
    const end = Date.now() + Math.max(90_000, 2 * (this.cfg.patienceMs ?? 0));
    for (;;) {
      const m = /HTTP API on (http:\/\/[^\s;]+)/.exec(child.stderr());
      if (m?.[1]) {
        this.url = m[1];
        return;
      }
      if (child.exit() || Date.now() > end) {
        child.kill("SIGKILL");
        throw new Error(`riffle dev did not serve its API: ${tail(child.stderr(), 6)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops `riffle dev` with `signal`; returns its exit (undefined: it had to be killed). */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const child = this.child;
    if (!child) return undefined;
    child.kill(signal);
    const exit = await waitExit(child, 30_000);
    if (!exit) {
      child.kill("SIGKILL");
      await child.exited;
    }
    this.child = undefined;
    return exit;
  }

  /** Calls the HTTP API; the body parsed as JSON (or the text). */
  async api(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.url}/jobs/${JOB}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", "x-api-key": KEY },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(Math.max(this.cfg.patienceMs ?? 60_000, 20_000)),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { status: res.status, body: { text } };
    }
  }

  /** Ingests `records` of one key; records what was accepted, reports anything else. */
  async ingest(key: string, records: readonly ChaosRecord[]): Promise<string> {
    const path = `/sources/${SOURCE}/events?key=${encodeURIComponent(key)}`;
    const r = await this.api(path, records);
    if (r.status === 202) {
      const first = Number(r.body.first);
      const counted = records.filter((x) => !x.end);
      if (counted.length > 0) this.accepted.push({ key, first, ids: counted.map((x) => x.id) });
      return `202 ${key}×${records.length}`;
    }
    this.j.violate(
      `ingest of ${records.length} record(s) of ${key} answered ${r.status} ${JSON.stringify(r.body)}`,
      await this.explain(r.body),
    );
    return `${r.status} ${key}`;
  }

  /** Per key, the ids of its counted records in the order the ingest log accepted them. */
  expected(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const a of [...this.accepted].sort((x, y) => x.first - y.first)) {
      out.set(a.key, [...(out.get(a.key) ?? []), ...a.ids]);
    }
    for (const k of this.probes.keys()) if (!out.has(k)) out.set(k, []);
    return out;
  }

  /** Every committed row with its generation. */
  rows(): Promise<GenRow[]> {
    return readGenRows(this.emu.client, this.prefix, JOB, SINK);
  }

  /** The job's status from the API. */
  async status(): Promise<{ generation: number; backlog: Record<string, number> }> {
    const r = await this.api("");
    return r.body as { generation: number; backlog: Record<string, number> };
  }

  /** The server log lines of a 500 answer (by its request id), else the stderr tail. */
  async explain(body: Record<string, unknown>): Promise<string> {
    await new Promise((r) => setTimeout(r, 300)); // the server logs after it answers
    const id = /\(request ([\w-]+)\)/.exec(String(body.message ?? ""))?.[1];
    const log = this.child?.stderr() ?? "";
    if (!id) return this.stderr();
    const lines = log.split("\n");
    const at = lines.findIndex((l) => l.includes(id));
    return at < 0 ? this.stderr() : lines.slice(at, at + 6).join("\n");
  }

  /** The job's generation, backlog and last checkpoints, then the stderr tail (for a job that got stuck). */
  async describe(): Promise<string> {
    const st = await this.api("").catch((e: Error) => ({ status: 0, body: { error: e.message } }));
    const cps = await this.api("/checkpoints").catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
    const list = ((cps.body.checkpoints ?? []) as { id: number; generation: number; status: string; reason?: string }[])
      .slice(-6)
      .map((c) => `${c.id}/g${c.generation}/${c.status}${c.reason ? `(${c.reason})` : ""}`);
    const { generation, backlog } = st.body as { generation?: number; backlog?: unknown };
    return `generation ${generation} backlog ${JSON.stringify(backlog)} checkpoints ${list.join(" ")}\n${this.stderr()}`;
  }

  /** The stderr tail of the running `riffle dev`. */
  stderr(): string {
    return tail(this.child?.stderr() ?? "", 6);
  }
}
