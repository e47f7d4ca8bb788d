/**
 * The cost units one Lambda invocation spent, for its EMF line: DynamoDB read and
 * write capacity units (from `ConsumedCapacity`, which {@link RequestAccounting}
 * asks every capable request to return), billed SQS and S3 requests, and the
 * invocation's GB-seconds. The counting is the same {@link RequestAccounting} that
 * prices aws-local runs; here it is attached to the function's own SDK clients, and
 * each invocation takes the difference since the one before (Lambda runs one
 * invocation at a time per container; the first also carries the container's init).
 *
 * Not counted here: the event source mapping's receives and deletes (SQS bills them
 * to the account, not to an invocation) and Step Functions transitions.
 */

import { type AccountableClient, RequestAccounting } from "./accounting.ts";
import type { AccountingSnapshot } from "./accounting-snapshot.ts";

/** What one invocation spent. */
export interface CostUnits {
  readonly readUnits: number;
  readonly writeUnits: number;
  /** SQS requests as billed (each started 64 KB of payload counts one). */
  readonly sqsRequests: number;
  readonly s3Requests: number;
  /** Billed duration × memory, in GB-seconds. */
  readonly lambdaGbSeconds: number;
}

function sums(s: AccountingSnapshot): CostUnits {
  const requests = (service: string, billed: boolean) =>
    Object.values(s.services[service] ?? {}).reduce((n, o) => n + ((billed ? o.billedRequests : o.requests) ?? 0), 0);
  return {
    readUnits: s.totals.readUnits,
    writeUnits: s.totals.writeUnits,
    sqsRequests: requests("SQS", true),
    s3Requests: requests("S3", false),
    lambdaGbSeconds: s.totals.lambdaGbSeconds,
  };
}

/** Counts a function's requests and hands each invocation its share. */
export class InvocationCost {
  private readonly accounting = new RequestAccounting();
  private readonly fn: string;
  private readonly memoryMb: number;
  private before: CostUnits;

  /** `fn` names the function; `memoryMb` is its memory (Lambda's `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`). */
  constructor(fn: string, memoryMb: number, clients: readonly (AccountableClient | undefined)[]) {
    this.fn = fn;
    this.memoryMb = memoryMb;
    for (const c of clients) if (c) this.accounting.attach(c);
    this.before = sums(this.accounting.snapshot());
  }

  /** The units spent since the last call, with this invocation's `durationMs` of compute. */
  take(durationMs: number): CostUnits {
    this.accounting.recordInvocation(this.fn, durationMs, this.memoryMb);
    const now = sums(this.accounting.snapshot());
    const was = this.before;
    this.before = now;
    return {
      readUnits: now.readUnits - was.readUnits,
      writeUnits: now.writeUnits - was.writeUnits,
      sqsRequests: now.sqsRequests - was.sqsRequests,
      s3Requests: now.s3Requests - was.s3Requests,
      lambdaGbSeconds: now.lambdaGbSeconds - was.lambdaGbSeconds,
    };
  }
}
