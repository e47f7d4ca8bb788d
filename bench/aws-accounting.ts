/**
 * Request accounting for the aws-local benchmark: {@link RequestAccounting} plus a
 * count of the records each task queue received (from the envelopes in every
 * SendMessageBatch, deduplicated by message deduplication id, so a re-sent outbox
 * counts once), and a split of the counters into what riffle asks for, what the
 * event source mapping's polling costs, and one-off setup.
 */

import { type AccountableClient, RequestAccounting } from "../functions/aws/accounting.ts";
import type { AccountingSnapshot } from "../functions/aws/accounting-snapshot.ts";
import { classify } from "../functions/aws/usage.ts";

/** Records and messages that reached one queue. */
export interface QueueTraffic {
  /** Distinct messages (by deduplication id). */
  readonly messages: number;
  /** Data records in those messages. */
  readonly records: number;
}

type Handler = (args: { input: object }) => Promise<unknown>;

interface SendBatchInput {
  readonly QueueUrl?: string;
  readonly Entries?: readonly { MessageBody?: string; MessageDeduplicationId?: string }[];
}

/** {@link RequestAccounting} that also counts records per receiving queue; see the module comment. */
export class HopAccounting extends RequestAccounting {
  private readonly seen = new Set<string>();
  private readonly traffic = new Map<string, { messages: number; records: number }>();
  private readonly hooked = new WeakSet<object>();

  /** Attaches the request accounting and the record counter (idempotent per middleware stack). */
  override attach<C extends AccountableClient>(client: C, origin?: string): C {
    super.attach(client, origin);
    const stack = client.middlewareStack as {
      add(mw: (next: Handler, context: Record<string, unknown>) => Handler, options: object): void;
    };
    if (this.hooked.has(stack)) return client;
    this.hooked.add(stack);
    stack.add(
      (next, context) => async (args) => {
        if (context.commandName === "SendMessageBatchCommand") this.count(args.input as SendBatchInput);
        return next(args);
      },
      { step: "initialize", priority: "low", name: "riffleBenchHops", tags: ["RIFFLE_BENCH"] },
    );
    return client;
  }

  /** Records and messages sent to each queue URL so far. */
  queueTraffic(): Record<string, QueueTraffic> {
    return Object.fromEntries([...this.traffic].map(([url, t]) => [url, { ...t }]));
  }

  override reset(): void {
    super.reset();
    this.seen.clear();
    this.traffic.clear();
  }

  private count(input: SendBatchInput): void {
    const url = input.QueueUrl ?? "?";
    for (const e of input.Entries ?? []) {
      const id = `${url}|${e.MessageDeduplicationId ?? Math.random()}`;
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      let records = 0;
      try {
        const body = JSON.parse(e.MessageBody ?? "{}") as { records?: unknown[] };
        records = Array.isArray(body.records) ? body.records.length : 0;
      } catch {
        records = 0; // not an envelope: counted as a message without records
      }
      const t = this.traffic.get(url) ?? { messages: 0, records: 0 };
      t.messages += 1;
      t.records += records;
      this.traffic.set(url, t);
    }
  }
}

/** Counters of one operation, per million events. */
export interface OperationPerMillion {
  readonly requests: number;
  /** SQS: billed requests (64 KB chunks). */
  readonly billedRequests?: number;
  /** DynamoDB: read request units. */
  readonly readUnits?: number;
  /** DynamoDB: write request units. */
  readonly writeUnits?: number;
  /** DynamoDB: some units estimated from item sizes (DynamoDB Local reported none or fewer). */
  readonly estimated?: boolean;
}

/** A snapshot's counters split by class and scaled to one million events. */
export interface AccountingBreakdown {
  /** Requests riffle (and the mapping's deletes) make: service → operation → counters per million events. */
  readonly own: Record<string, Record<string, OperationPerMillion>>;
  /** The emulated event source mapping's ReceiveMessage calls, per million events (fauxqs + a 20 ms poll loop). */
  readonly polling: Record<string, Record<string, OperationPerMillion>>;
  /** One-off setup requests of the run (absolute counts, not scaled). */
  readonly setupRequests: number;
  /** Lambda, per million events: function → invocations, summed handler duration (ms), GB-s at its memory (tasks 1024 MB, the round 256 MB). */
  readonly lambda: Record<string, { invocations: number; durationMs: number; gbSeconds: number }>;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Splits `s` into own / polling / setup and scales own and polling to one million of `events`. */
export function breakdown(s: AccountingSnapshot, events: number): AccountingBreakdown {
  const k = 1_000_000 / events;
  const own: Record<string, Record<string, OperationPerMillion>> = {};
  const polling: Record<string, Record<string, OperationPerMillion>> = {};
  let setupRequests = 0;
  for (const [service, ops] of Object.entries(s.services)) {
    for (const [op, c] of Object.entries(ops)) {
      const cls = classify(service, op);
      if (cls === "setup") {
        setupRequests += c.requests;
        continue;
      }
      const target = cls === "own" ? own : polling;
      target[service] ??= {};
      (target[service] as Record<string, OperationPerMillion>)[op] = {
        requests: round(c.requests * k),
        ...(c.billedRequests !== undefined ? { billedRequests: round(c.billedRequests * k) } : {}),
        ...(c.readUnits !== undefined ? { readUnits: round(c.readUnits * k) } : {}),
        ...(c.writeUnits !== undefined ? { writeUnits: round(c.writeUnits * k) } : {}),
        ...(c.estimated ? { estimated: true } : {}),
      };
    }
  }
  const lambda: AccountingBreakdown["lambda"] = {};
  for (const [fn, l] of Object.entries(s.lambda)) {
    lambda[fn] = {
      invocations: round(l.invocations * k),
      durationMs: round(l.durationMs * k, 0),
      gbSeconds: round(l.gbSeconds * k, 2),
    };
  }
  return { own, polling, setupRequests, lambda };
}

/** Sums of a breakdown section by service: requests, billed requests, read and write units. */
export function serviceTotals(
  section: Record<string, Record<string, OperationPerMillion>>,
): Record<string, { requests: number; billedRequests: number; readUnits: number; writeUnits: number }> {
  const out: Record<string, { requests: number; billedRequests: number; readUnits: number; writeUnits: number }> = {};
  for (const [service, ops] of Object.entries(section)) {
    const t = { requests: 0, billedRequests: 0, readUnits: 0, writeUnits: 0 };
    for (const c of Object.values(ops)) {
      t.requests += c.requests;
      t.billedRequests += c.billedRequests ?? 0;
      t.readUnits += c.readUnits ?? 0;
      t.writeUnits += c.writeUnits ?? 0;
    }
    out[service] = {
      requests: round(t.requests),
      billedRequests: round(t.billedRequests),
      readUnits: round(t.readUnits),
      writeUnits: round(t.writeUnits),
    };
  }
  return out;
}
