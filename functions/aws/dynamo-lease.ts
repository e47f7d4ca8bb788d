/**
 * The compaction lease of a partition: one conditional item (`~lock`) in the log table.
 * A holder renews it while it works (every quarter of the lease), so a holder that
 * crashed, or whose Lambda was frozen or timed out, loses it within one lease
 * ({@link COMPACTION_LEASE_MS}), and a live one keeps it however long it works. A
 * holder checks its term before each write ({@link LeaseTerm.check}): once a renewal
 * found the lease taken, or the last renewal is too old, it writes nothing more. That
 * is a check, not a fence: a write already in flight may land.
 */

import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { conditionalCall, type TableNames } from "./dynamo-client.ts";
import { LogKey } from "./dynamo-state-log.ts";

/** How long a lease lasts unless its holder renews it (default of `LeaseTable.leaseMs`). */
export const COMPACTION_LEASE_MS = 20_000;

/** Where leases live, and how long one lasts without renewal. */
export interface LeaseTable {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly leaseMs: number;
}

/** Tokens of the leases a restore holds: a restore takes over those of an earlier restore that died. */
export const RESTORE_TOKEN = "restore:";

/** True for the sort key of the compaction lease (a reset keeps it). */
export const isLease = (sk: string): boolean => sk === LogKey.lock;

/**
 * Takes the lease of `pk` (a conditional write) and returns when it ends; throws a
 * retryable `compaction-busy` while another holds it.
 */
export async function takeLease(o: LeaseTable, pk: string, token: string): Promise<number> {
  const now = Date.now();
  const restore = token.startsWith(RESTORE_TOKEN);
  const r = await conditionalCall(`PutItem of the compaction lease of ${pk}`, () =>
    o.doc.send(
      new PutCommand({
        TableName: o.tables.log,
        Item: { pk, sk: LogKey.lock, token, until: now + o.leaseMs },
        ConditionExpression: `attribute_not_exists(pk) OR #u < :now${restore ? " OR begins_with(#t, :restore)" : ""}`,
        ExpressionAttributeNames: { "#u": "until", ...(restore ? { "#t": "token" } : {}) },
        ExpressionAttributeValues: { ":now": now, ...(restore ? { ":restore": RESTORE_TOKEN } : {}) },
      }),
    ),
  );
  if (!r.ok) {
    throw new RiffleError("compaction-busy", `another compaction of ${pk} holds its lease; try again later`, {
      retryable: true,
    });
  }
  return now + o.leaseMs;
}

/** Gives the lease of `pk` back, if `token` still holds it. */
export async function releaseLease(o: LeaseTable, pk: string, token: string): Promise<void> {
  await conditionalCall(`DeleteItem of the compaction lease of ${pk}`, () =>
    o.doc.send(
      new DeleteCommand({
        TableName: o.tables.log,
        Key: { pk, sk: LogKey.lock },
        ConditionExpression: "#t = :t",
        ExpressionAttributeNames: { "#t": "token" },
        ExpressionAttributeValues: { ":t": token },
      }),
    ),
  );
}

/** The leases a holder keeps while it works: renewed in the background, checked before each write. */
export class LeaseTerm {
  private until: number;
  private lost = false;
  private readonly timer: NodeJS.Timeout;
  private readonly o: LeaseTable;
  private readonly pks: readonly string[];
  private readonly token: string;

  /** `pks`: the leases held, renewed as they are when each renewal runs (a caller may add to it). */
  constructor(o: LeaseTable, pks: readonly string[], token: string, until: number) {
    this.o = o;
    this.pks = pks;
    this.token = token;
    this.until = until;
    this.timer = setInterval(() => void this.renew(), o.leaseMs / 4);
    this.timer.unref();
  }

  /** Throws a retryable `compaction-lease-expired` unless the leases are safely held for a while yet. */
  check(what: string): void {
    if (!this.lost && Date.now() <= this.until - this.o.leaseMs / 4) return;
    throw new RiffleError(
      "compaction-lease-expired",
      `the compaction of ${this.pks.join(", ")} lost its lease before writing its ${what}${this.lost ? " (another took it over)" : ""}; it runs again later`,
      { retryable: true },
    );
  }

  /** Stops renewing. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const at = Date.now();
    try {
      for (const pk of this.pks) {
        const r = await conditionalCall(`UpdateItem renewing the compaction lease of ${pk}`, () =>
          this.o.doc.send(
            new UpdateCommand({
              TableName: this.o.tables.log,
              Key: { pk, sk: LogKey.lock },
              UpdateExpression: "SET #u = :u",
              ConditionExpression: "#t = :t",
              ExpressionAttributeNames: { "#u": "until", "#t": "token" },
              ExpressionAttributeValues: { ":u": at + this.o.leaseMs, ":t": this.token },
            }),
          ),
        );
        if (!r.ok) this.lost = true;
      }
      if (!this.lost) this.until = at + this.o.leaseMs;
    } catch {
      // A renewal that failed leaves the term as it was: `check` refuses once it is too old.
    }
  }
}
