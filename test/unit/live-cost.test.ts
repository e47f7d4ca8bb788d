/**
 * The live cost meter on a manual clock, against hand-computed dollars: an idle
 * window opens once the job has been quiet for `quietMs`, counts once it is
 * `minIdleMs` long, closes before the next ingest call, and sets the idle rate that
 * comes off the bill before the rest is divided by the events.
 */

import { describe, expect, it } from "vitest";
import { RequestAccounting } from "../../functions/aws/accounting.ts";
import { LiveCostMeter } from "../../functions/aws/live-cost.ts";
import { loadPrices } from "../../functions/aws/prices.ts";

const prices = loadPrices();

/** A meter over a fresh accounting on a clock the test moves; 2 task queues, 5 s quiet, 10 s windows. */
function setup() {
  const accounting = new RequestAccounting();
  const clock = { t: 0 };
  const meter = new LiveCostMeter({
    accounting,
    prices,
    job: "clicks",
    queues: 2,
    quietMs: 5000,
    minIdleMs: 10_000,
    now: () => clock.t,
    storageBytes: async () => 73e9,
  });
  /** Moves the clock to `t` ms, the coordinator making 4 transitions a second on the way, and samples. */
  const advance = (t: number) => {
    const n = Math.round(((t - clock.t) / 1000) * 4);
    accounting.recordStateTransitions("clicks-coordinator", "STANDARD", n, "coordinator");
    clock.t = t;
    meter.sample();
  };
  return { accounting, clock, meter, advance };
}

describe("LiveCostMeter", () => {
  it("reports the idle rate of a window once it is long enough, and no per-event figure before any event", async () => {
    const { accounting, meter, advance } = setup();
    advance(1000);
    expect((await meter.cost()).idleWindow).toBeNull(); // still within the quiet period after the start
    advance(5000); // the window opens here
    accounting.recordInvocation("clicks-task", 1000, 1024, "task"); // a barrier: 1 GB-s
    advance(15_000);
    const c = await meter.cost();
    // 40 transitions in 10 s = 14,400 an hour = $0.36; 360 invocations ($0.000072) and 360 GB-s ($0.0048);
    // AWS's idle polling of 2 queues: 1,800 receives an hour = $0.0009.
    expect(c.perIdleHour).toMatchObject({ stepFunctions: 0.36, lambda: 0.004872, sqs: 0.0009, total: 0.3658 });
    expect(c.idleWindow).toEqual({ seconds: 10, current: true, coordinatorPerHour: 0.36 });
    expect(c.perMillionEvents).toBeNull();
    expect(c.events).toBe(0);
    expect(c.seconds).toBe(15);
    expect(c.storage).toEqual({ bytes: 73e9, dollarsPerHour: 0.045 });
  });

  it("closes the window before an ingest call and charges events what they add on top of the idle rate", async () => {
    const { accounting, meter, advance } = setup();
    advance(5000);
    accounting.recordInvocation("clicks-task", 1000, 1024, "task");
    advance(15_000);
    advance(20_000); // sampled while the ingest call below ran (19.9 s → 20 s)
    meter.ingested(1000, 100); // closes the window at the last sample before the call began: 5 s → 15 s
    for (let i = 0; i < 20; i++) accounting.recordInvocation("clicks-task", 500, 1024, "task");
    advance(30_000); // a new window opens here, too short to count
    const c = await meter.cost();
    expect(c.idleWindow).toEqual({ seconds: 10, current: false, coordinatorPerHour: 0.36 });
    expect(c.perIdleHour?.total).toBe(0.3658);
    expect(c.events).toBe(1000);
    // Everything: 120 transitions ($0.003), 22 invocations and 11.1 GB-s (the API call is 100 ms at 1 GB), 1 API request.
    expect(c.dollars).toMatchObject({ stepFunctions: 0.003, lambda: 0.0001524, apiGateway: 0.000001, total: 0.003153 });
    // The idle rate over 30 s takes 120 transitions, 3 invocations and 3 GB-s off; for 1,000 events that leaves
    // 19 invocations ($0.0038 per million) and 8.1 GB-s ($0.10800054 per million), and one API request ($0.001).
    expect(c.perMillionEvents).toEqual({
      sqs: 0,
      dynamodb: 0,
      lambda: 0.1118,
      stepFunctions: 0,
      apiGateway: 0.001,
      s3: 0,
      total: 0.1128,
    });
  });

  it("counts each ingest call as an API request and an API Lambda invocation", () => {
    const { accounting, meter } = setup();
    meter.ingested(10, 40);
    meter.ingested(5, 60);
    expect(meter.eventCount()).toBe(15);
    expect(meter.usage()).toMatchObject({ apiRequests: 2, lambdaInvocations: 2 });
    expect(accounting.snapshot("api").lambda["clicks-api"]).toEqual({
      invocations: 2,
      durationMs: 100,
      gbSeconds: 0.1,
    });
  });
});
