/**
 * The request counters of {@link RequestAccounting}, one per origin, service and
 * operation: how they are created, summed over origins, and turned into JSON.
 */

import { CAPACITY_OPERATIONS } from "./accounting-dynamo.ts";
import type { OperationStats } from "./accounting-snapshot.ts";

/** Counters of one operation (mutable; {@link operationStats} is its JSON). */
export interface Counter {
  requests: number;
  billedRequests: number;
  requestBytes: number;
  responseBytes: number;
  readUnits: number;
  writeUnits: number;
  estimated: boolean;
  receivedMessages: number;
}

/** The counter of `service`/`operation` in `byService`, created at zero if new. */
export function counterIn(byService: Map<string, Map<string, Counter>>, service: string, operation: string): Counter {
  let ops = byService.get(service);
  if (!ops) {
    ops = new Map();
    byService.set(service, ops);
  }
  let c = ops.get(operation);
  if (!c) {
    c = {
      requests: 0,
      billedRequests: 0,
      requestBytes: 0,
      responseBytes: 0,
      readUnits: 0,
      writeUnits: 0,
      estimated: false,
      receivedMessages: 0,
    };
    ops.set(operation, c);
  }
  return c;
}

/** Adds `c` into `into`. */
export function addCounter(into: Counter, c: Counter): void {
  into.requests += c.requests;
  into.billedRequests += c.billedRequests;
  into.requestBytes += c.requestBytes;
  into.responseBytes += c.responseBytes;
  into.readUnits += c.readUnits;
  into.writeUnits += c.writeUnits;
  into.estimated ||= c.estimated;
  into.receivedMessages += c.receivedMessages;
}

/** The JSON of one counter: SQS adds billed requests (and received messages), DynamoDB capacity units. */
export function operationStats(service: string, op: string, c: Counter): OperationStats {
  const base = { requests: c.requests, requestBytes: c.requestBytes, responseBytes: c.responseBytes };
  if (service === "SQS") {
    return {
      ...base,
      billedRequests: c.billedRequests,
      ...(op === "ReceiveMessage" ? { receivedMessages: c.receivedMessages } : {}),
    };
  }
  if (service === "DynamoDB" && CAPACITY_OPERATIONS.has(op)) {
    return { ...base, readUnits: c.readUnits, writeUnits: c.writeUnits, estimated: c.estimated };
  }
  return base;
}
