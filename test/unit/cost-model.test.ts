/**
 * The shared cost model against hand-computed dollars: the price list holds issue
 * 13's entries, every quantity of a usage is priced, storage, the split of a bill
 * into idle hours and events, a snapshot's billable usage, and Managed Flink's KPUs
 * with their running storage.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flinkKpuDollarsPerHour, flinkKpus, flinkStorageDollarsPerHour, ratesWhere } from "../../bench/cost.ts";
import { RiffleError } from "../../core/errors.ts";
import type { AccountingSnapshot } from "../../functions/aws/accounting-snapshot.ts";
import { dollars, splitCost, storageDollarsPerHour, usage } from "../../functions/aws/cost-model.ts";
import { loadPrices } from "../../functions/aws/prices.ts";
import { deliveredMessages, idlePollingDollarsPerHour, snapshotUsage } from "../../functions/aws/usage.ts";

const p = loadPrices();

describe("bench/prices.json", () => {
  it("holds issue 13's prices beside the earlier ones", () => {
    expect(p.dynamodbStoragePerGbMonth.usd).toBe(0.25);
    expect(p.dynamodbPitrPerGbMonth.usd).toBe(0.2);
    expect(p.stepFunctionsExpressPerMillionRequests.usd).toBe(1);
    expect(p.stepFunctionsExpressPerGbSecond.usd).toBe(0.00001667);
    expect(p.managedFlinkRunningStoragePerGbMonth).toMatchObject({ usd: 0.1, gbPerKpu: 50 });
    expect(p.lambdaSqsProvisionedPollerPerEpuHour.usd).toBe(0.00925);
    expect(p.sqsFifoPerMillionRequests.usd).toBe(0.5);
    expect(p.stepFunctionsStandardPer1000StateTransitions.usd).toBe(0.025);
    expect(p.managedFlinkPerKpuHour.usd).toBe(0.11);
    expect(p.asOf).toMatch(/NOT checked/);
  });

  it("refuses a price list with a missing or negative price, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-prices-"));
    const file = join(dir, "prices.json");
    writeFileSync(file, JSON.stringify({ ...p, dynamodbPitrPerGbMonth: { usd: -1, source: "x" } }));
    expect(() => loadPrices(file)).toThrow(RiffleError);
    expect(() => loadPrices(file)).toThrow(/'dynamodbPitrPerGbMonth.usd' must be a number ≥ 0, got -1/);
    expect(() => loadPrices(join(dir, "missing.json"))).toThrow(/cannot read the price list/);
  });
});

describe("dollars", () => {
  it("prices every quantity by its service", () => {
    const u = usage({
      sqsRequests: 2_000_000, // 2 × $0.50
      dynamoWriteUnits: 1_000_000, // $0.625
      dynamoReadUnits: 4_000_000, // 4 × $0.125
      lambdaInvocations: 1_000_000, // $0.20
      lambdaGbSeconds: 100_000, // × $0.0000133334 = $1.33334
      pollerEpuHours: 100, // × $0.00925 = $0.925
      stateTransitions: 40_000, // 40 × $0.025 = $1.00
      expressRequests: 500_000, // $0.50
      expressGbSeconds: 60_000, // × $0.00001667 = $1.0002
      apiRequests: 3_000_000, // $3
      s3PutRequests: 200_000, // 200 × $0.005 = $1
      s3GetRequests: 500_000, // 500 × $0.0004 = $0.20
    });
    expect(dollars(u, p)).toEqual({
      sqs: 1,
      dynamodb: 1.125,
      lambda: 2.458, // 2.45834
      stepFunctions: 2.5, // 2.5002
      apiGateway: 3,
      s3: 1.2,
      total: 11.28, // 11.28354
    });
    expect(dollars(usage(), p).total).toBe(0);
  });

  it("prices storage and point-in-time recovery per GB-month of 730 hours", () => {
    expect(storageDollarsPerHour(73e9, p)).toBeCloseTo((73 * 0.45) / 730, 12); // $0.045
    expect(storageDollarsPerHour(73e9, p, false)).toBeCloseTo(0.025, 12);
  });
});

describe("splitCost", () => {
  it("takes the idle rate over the whole run off the bill and divides the rest by the events", () => {
    // Idle: 36,000 transitions in half an hour = 72,000 an hour = $1.80, plus $0.01 modelled.
    const idle = { usage: usage({ stateTransitions: 36_000 }), seconds: 1800 };
    const total = usage({ stateTransitions: 100_000, dynamoWriteUnits: 2_000_000 });
    const split = splitCost({ total, seconds: 3600, idle, events: 500_000, idleModelPerHour: 0.01 }, p);
    expect(split.perIdleHour).toMatchObject({ stepFunctions: 1.8, sqs: 0.01, total: 1.81 });
    // Left for the events: 28,000 transitions ($0.70) and 2M WRU ($1.25) for half a million events.
    expect(split.perMillionEvents).toMatchObject({ stepFunctions: 1.4, dynamodb: 2.5, total: 3.9 });
  });

  it("charges everything to events before an idle window is measured, and has no per-event figure without events", () => {
    const total = usage({ dynamoWriteUnits: 1_000_000 });
    expect(splitCost({ total, seconds: 60, events: 1_000_000 }, p)).toEqual({
      perIdleHour: null,
      perMillionEvents: expect.objectContaining({ dynamodb: 0.625, total: 0.625 }),
    });
    expect(splitCost({ total, seconds: 60, events: 0 }, p).perMillionEvents).toBeNull();
  });
});

describe("snapshotUsage", () => {
  const ops = (o: Record<string, object>) => o as AccountingSnapshot["services"][string];
  const snapshot = {
    services: {
      SQS: ops({
        SendMessageBatch: { requests: 5, billedRequests: 7, requestBytes: 0, responseBytes: 0 },
        ReceiveMessage: { requests: 80, billedRequests: 100, receivedMessages: 12, requestBytes: 0, responseBytes: 0 },
        GetQueueAttributes: { requests: 3, billedRequests: 3, requestBytes: 0, responseBytes: 0 },
      }),
      DynamoDB: ops({
        PutItem: { requests: 4, writeUnits: 10, readUnits: 0, requestBytes: 0, responseBytes: 0 },
        Query: { requests: 2, writeUnits: 0, readUnits: 2.5, requestBytes: 0, responseBytes: 0 },
        DescribeTable: { requests: 9, requestBytes: 0, responseBytes: 0 },
      }),
      S3: ops({
        PutObject: { requests: 6, requestBytes: 0, responseBytes: 0 },
        ListObjectsV2: { requests: 1, requestBytes: 0, responseBytes: 0 },
        GetObject: { requests: 11, requestBytes: 0, responseBytes: 0 },
        DeleteObject: { requests: 5, requestBytes: 0, responseBytes: 0 },
        CreateBucket: { requests: 1, requestBytes: 0, responseBytes: 0 },
      }),
    },
    lambda: {
      a: { invocations: 2, durationMs: 500, gbSeconds: 0.5 },
      b: { invocations: 1, durationMs: 250, gbSeconds: 0.25 },
    },
    stepFunctions: {
      std: { type: "STANDARD", executions: 1, transitions: 20, durationMs: 9000, gbSeconds: 0 },
      exp: { type: "EXPRESS", executions: 3, transitions: 9, durationMs: 300, gbSeconds: 0.05 },
    },
    totals: {} as AccountingSnapshot["totals"],
  } satisfies AccountingSnapshot;

  it("bills riffle's own requests (S3 by tier, deletes free), every Lambda, and each state machine by its type; not polling, not setup", () => {
    expect(deliveredMessages(snapshot)).toBe(12);
    expect(snapshotUsage(snapshot, { sqsRequests: deliveredMessages(snapshot), apiRequests: 4 })).toEqual(
      usage({
        sqsRequests: 7 + 12,
        dynamoWriteUnits: 10,
        dynamoReadUnits: 2.5,
        lambdaInvocations: 3,
        lambdaGbSeconds: 0.75,
        stateTransitions: 20,
        expressRequests: 3,
        expressGbSeconds: 0.05,
        apiRequests: 4,
        s3PutRequests: 6 + 1,
        s3GetRequests: 11,
      }),
    );
  });

  it("models AWS's idle mapping polling at 900 receives per queue-hour", () => {
    expect(idlePollingDollarsPerHour(2, p)).toBeCloseTo((1800 * 0.5) / 1e6, 12);
  });
});

describe("Managed Flink", () => {
  it("needs the KPUs of the rate plus one, and running storage for all but the orchestration KPU", () => {
    expect(flinkKpus(2500, 117_000)).toBe(2);
    expect(flinkKpus(300_000, 117_000)).toBe(4);
    expect(flinkStorageDollarsPerHour(2, p)).toBeCloseTo(5 / 730, 12); // 50 GB × $0.10 a month
    expect(flinkKpuDollarsPerHour(2, p)).toBeCloseTo(0.22 + 5 / 730, 12);
    expect(flinkKpuDollarsPerHour(2, p) * 24).toBeCloseTo(5.4444, 4);
    expect(flinkKpuDollarsPerHour(4, p)).toBeCloseTo(0.44 + 15 / 730, 12);
  });

  it("finds the rates where a condition holds, to one event/s", () => {
    expect(ratesWhere((r) => r < 1234, 1000)).toEqual([{ from: 1, to: 1233 }]);
    expect(ratesWhere((r) => r >= 100, 1000)).toEqual([{ from: 100, to: undefined }]);
    expect(ratesWhere(() => false, 1000)).toEqual([]);
  });
});
