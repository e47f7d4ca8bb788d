/**
 * From what {@link RequestAccounting} counted to what AWS bills ({@link Usage}):
 * which requests are riffle's own, which are the emulated event source mapping's
 * polling (priced by a model of AWS's mapping instead), and which are one-off
 * setup; Lambda and Step Functions by how each is billed. Shared by the benchmark
 * and the live cost.
 */

import type { AccountingSnapshot } from "./accounting-snapshot.ts";
import { type Usage, usage } from "./cost-model.ts";
import type { Prices } from "./prices.ts";

/** Operations that create or inspect resources: counted once per deployment, not per event. */
export const SETUP_OPERATIONS: ReadonlySet<string> = new Set([
  "CreateBucket",
  "HeadBucket",
  "CreateTable",
  "DescribeTable",
  "DescribeTimeToLive",
  "UpdateTimeToLive",
  "ListTables",
  "CreateQueue",
  "GetQueueUrl",
  "GetQueueAttributes",
  "SetQueueAttributes",
]);

/** SQS operations of the event source mapping's polling (its pattern on AWS differs from the emulator's). */
export const POLLING_OPERATIONS: ReadonlySet<string> = new Set(["ReceiveMessage"]);

/** S3 operations billed at the PUT tier; DELETE is free, every other request is billed at the GET tier. */
export const S3_PUT_TIER: ReadonlySet<string> = new Set([
  "PutObject",
  "CopyObject",
  "PostObject",
  "ListObjectsV2",
  "ListObjects",
  "CreateMultipartUpload",
  "UploadPart",
  "CompleteMultipartUpload",
]);
const S3_FREE: ReadonlySet<string> = new Set(["DeleteObject", "DeleteObjects"]);

/** Where a counter belongs. */
export type OperationClass = "own" | "polling" | "setup";

/** The class of one service operation. */
export function classify(service: string, operation: string): OperationClass {
  if (SETUP_OPERATIONS.has(operation)) return "setup";
  if (service === "SQS" && POLLING_OPERATIONS.has(operation)) return "polling";
  return "own";
}

/**
 * Assumed idle polling of AWS's SQS event source mapping in standard mode: 5
 * pollers doing 20 s long polls, per queue per hour. The emulated mapping polls
 * every 20 ms instead, which is not priced.
 */
export const ESM_IDLE_RECEIVES_PER_QUEUE_HOUR = 900;

/** Dollars per hour of AWS's idle mapping polling ({@link ESM_IDLE_RECEIVES_PER_QUEUE_HOUR}) on `queues` queues. */
export function idlePollingDollarsPerHour(queues: number, p: Prices): number {
  return (ESM_IDLE_RECEIVES_PER_QUEUE_HOUR * queues * p.sqsFifoPerMillionRequests.usd) / 1e6;
}

/** Messages the emulated mapping's receives delivered: one ReceiveMessage each is the priced stand-in for AWS's mapping. */
export function deliveredMessages(s: AccountingSnapshot): number {
  let n = 0;
  for (const [service, ops] of Object.entries(s.services)) {
    for (const [op, c] of Object.entries(ops)) {
      if (classify(service, op) === "polling") n += c.receivedMessages ?? 0;
    }
  }
  return n;
}

/**
 * What AWS would bill for `s`: riffle's own SQS billed requests, DynamoDB units and
 * S3 requests by tier (not the emulated polling, not setup), every Lambda invocation and its GB-s, and
 * every state machine by its type (Standard: transitions; Express: executions and
 * GB-s). `extra` adds what the snapshot cannot hold, such as modelled receives or
 * API requests.
 */
export function snapshotUsage(s: AccountingSnapshot, extra: Partial<Usage> = {}): Usage {
  let sqsRequests = extra.sqsRequests ?? 0;
  let dynamoWriteUnits = extra.dynamoWriteUnits ?? 0;
  let dynamoReadUnits = extra.dynamoReadUnits ?? 0;
  let s3PutRequests = extra.s3PutRequests ?? 0;
  let s3GetRequests = extra.s3GetRequests ?? 0;
  for (const [service, ops] of Object.entries(s.services)) {
    for (const [op, c] of Object.entries(ops)) {
      if (classify(service, op) !== "own") continue;
      if (service === "S3" && !S3_FREE.has(op)) {
        if (S3_PUT_TIER.has(op)) s3PutRequests += c.requests ?? 0;
        else s3GetRequests += c.requests ?? 0;
      }
      sqsRequests += c.billedRequests ?? 0;
      dynamoWriteUnits += c.writeUnits ?? 0;
      dynamoReadUnits += c.readUnits ?? 0;
    }
  }
  const lambdas = Object.values(s.lambda);
  const workflows = Object.values(s.stepFunctions);
  const standard = workflows.filter((w) => w.type === "STANDARD");
  const express = workflows.filter((w) => w.type === "EXPRESS");
  const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
  return usage({
    ...extra,
    sqsRequests,
    dynamoWriteUnits,
    dynamoReadUnits,
    s3PutRequests,
    s3GetRequests,
    lambdaInvocations: sum(lambdas, (l) => l.invocations) + (extra.lambdaInvocations ?? 0),
    lambdaGbSeconds: sum(lambdas, (l) => l.gbSeconds) + (extra.lambdaGbSeconds ?? 0),
    stateTransitions: sum(standard, (w) => w.transitions) + (extra.stateTransitions ?? 0),
    expressRequests: sum(express, (w) => w.executions) + (extra.expressRequests ?? 0),
    expressGbSeconds: sum(express, (w) => w.gbSeconds) + (extra.expressGbSeconds ?? 0),
  });
}
