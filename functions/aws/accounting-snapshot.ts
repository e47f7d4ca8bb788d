/**
 * What `RequestAccounting` counted, as plain JSON: requests and billed units per
 * service and operation, Lambda usage per function, Step Functions usage per state
 * machine, and their totals. The data both the counting and its rendering
 * (`accounting-format.ts`) share.
 */

/** Counters of one operation of one service. */
export interface OperationStats {
  /** HTTP requests sent (every retry attempt counts). */
  readonly requests: number;
  /** SQS only: billed requests, `max(1, ceil(payload / 64 KB))` per request. */
  readonly billedRequests?: number;
  /** Bytes of the HTTP request bodies. */
  readonly requestBytes: number;
  /** Bytes of the HTTP response bodies. */
  readonly responseBytes: number;
  /** DynamoDB only: read capacity units (RCU, or on-demand read request units). */
  readonly readUnits?: number;
  /** DynamoDB only: write capacity units (WCU, or on-demand write request units). */
  readonly writeUnits?: number;
  /** DynamoDB only: true when some units were estimated from item sizes rather than reported. */
  readonly estimated?: boolean;
  /** SQS ReceiveMessage only: messages the receives returned. */
  readonly receivedMessages?: number;
}

/** Counters of one Lambda function. */
export interface LambdaStats {
  readonly invocations: number;
  /** Billed duration: each invocation rounded up to the millisecond. */
  readonly durationMs: number;
  /** Memory (GB) × billed duration (s), summed. */
  readonly gbSeconds: number;
}

/** How Step Functions bills a state machine: per state transition, or per request and GB-s. */
export type WorkflowType = "STANDARD" | "EXPRESS";

/** Counters of one state machine. */
export interface WorkflowStats {
  readonly type: WorkflowType;
  /** Executions started. */
  readonly executions: number;
  /** States entered, retries included (what a Standard workflow is billed for). */
  readonly transitions: number;
  /** Execution time, summed (Express: each execution rounded up to 100 ms). */
  readonly durationMs: number;
  /** Express: memory (64 MB assumed) × billed duration; Standard: 0. */
  readonly gbSeconds: number;
}

/** Sums over every service and function. */
export interface AccountingTotals {
  readonly requests: number;
  /** SQS billed requests (64 KB chunks). */
  readonly billedRequests: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly lambdaInvocations: number;
  readonly lambdaDurationMs: number;
  readonly lambdaGbSeconds: number;
  /** True when some DynamoDB units were estimated. */
  readonly estimated: boolean;
}

/** A JSON-serializable copy of every counter. */
export interface AccountingSnapshot {
  /** By service (`SQS`, `DynamoDB`, ...), then by operation (`SendMessageBatch`, `PutItem`, ...). */
  readonly services: Record<string, Record<string, OperationStats>>;
  /** By function name. */
  readonly lambda: Record<string, LambdaStats>;
  /** By state machine name. */
  readonly stepFunctions: Record<string, WorkflowStats>;
  readonly totals: AccountingTotals;
}
