/**
 * The bursty day's profile (mean 50 events/s, a peak at 50× the mean, idle hours),
 * its extrapolation from a compressed run against hand-computed dollars, and the
 * plot drawn from it.
 */

import { describe, expect, it } from "vitest";
import type { BurstyRun } from "../../bench/bursty-day.ts";
import { burstyDayFigure } from "../../bench/bursty-figures.ts";
import { dayEvents, eventsDue, idleHours, meanRate, peakRate, scaledDay } from "../../bench/bursty-profile.ts";
import { costSvg } from "../../bench/cost-svg.ts";
import { usage } from "../../functions/aws/cost-model.ts";
import { loadPrices } from "../../functions/aws/prices.ts";

const p = loadPrices();

describe("the bursty day's profile", () => {
  it("takes 4.32M events in a day: mean 50 events/s, a peak at 50× the mean, 8 idle hours", () => {
    expect(dayEvents()).toBeCloseTo(4_320_000, 6);
    expect(meanRate()).toBeCloseTo(50, 9);
    expect(peakRate()).toBe(2500);
    expect(peakRate() / meanRate()).toBeCloseTo(50, 9);
    expect(idleHours()).toBe(8);
  });

  it("says how many events are due by an hour of the day", () => {
    expect(eventsDue(6)).toBe(0);
    expect(eventsDue(8)).toBeCloseTo(180_000, 6); // 2 h at 25/s
    expect(eventsDue(12.05)).toBeCloseTo(180_000 + 864_000 + 450_000, 6); // half the peak's 6 minutes
    expect(eventsDue(24)).toBeCloseTo(4_320_000, 6);
  });

  it("keeps its shape at another mean rate", () => {
    const day = scaledDay(5);
    expect(meanRate(day)).toBeCloseTo(5, 9);
    expect(peakRate(day)).toBeCloseTo(250, 9);
  });
});

/** A compressed day of 24 s (1 s an hour) with round figures. */
const run: BurstyRun = {
  secondsPerHour: 1,
  events: 1200,
  bids: 1100,
  rows: 1100,
  ingestCalls: 150,
  largestCall: 25,
  intervalMs: 1000,
  queues: 2,
  total: { usage: usage({ stateTransitions: 240, dynamoWriteUnits: 1200 }), seconds: 24 },
  idle: { usage: usage({ stateTransitions: 90 }), seconds: 9 },
  coordinatorActive: { usage: usage({ stateTransitions: 36 }), seconds: 16 },
  drainSeconds: 1,
  tableBytes: { ingest: 100_000, output: 50_000, state: 10_000, checkpoints: 5_000, log: 5_000 },
};

describe("burstyDayFigure", () => {
  const fig = burstyDayFigure(run, p);

  it("splits the run into idle hours and events, and extrapolates to the day", () => {
    expect(fig.run.compression).toBe(3600);
    // 90 transitions in 9 s = 36,000 an hour = $0.90, plus 2 queues × 900 receives at $0.50 per million.
    expect(fig.dollarsPerIdleHour.total).toBeCloseTo(0.9009, 4);
    // 24 s at the idle rate take all 240 transitions; 1,200 WRU for 1,200 events = $0.625 per million.
    expect(fig.dollarsPerMillionEvents).toMatchObject({ stepFunctions: 0, dynamodb: 0.625, total: 0.625 });
    expect(fig.usagePerMillionEvents).toMatchObject({ dynamoWriteUnits: 1_000_000, stateTransitions: 0 });
    expect(fig.usagePerIdleHour.stateTransitions).toBe(36_000);
    // Storage: (100,000 + 50,000) × 3,600 + 20,000 bytes at $0.45 per GB-month, for 24 of 730 hours.
    expect(fig.storage.dayBytes).toBe(540_020_000);
    expect(fig.storage.dollarsPerDay).toBeCloseTo((0.54002 * 0.45 * 24) / 730, 6);
    expect(fig.riffle.idle).toBeCloseTo(21.62, 2);
    expect(fig.riffle.events).toBeCloseTo(2.7, 6); // 4.32 × $0.625
    expect(fig.riffle.dollarsPerDay).toBeCloseTo(24.33, 2);
    // Cross-check: the run's $0.00675 × 3,600 + 24 h of modelled polling.
    expect(fig.riffle.scaledRun).toBeCloseTo(24.32, 2);
    expect(fig.coordinatorDollarsPerActiveHour).toBeCloseTo(0.2025, 6); // 36 in 16 s = 8,100 an hour
  });

  it("sets it beside Managed Flink sized for the peak and at its floor", () => {
    expect(fig.flink.perCore).toBe(117_000);
    expect(fig.flink.peakSized).toEqual({ kpus: 2, dollarsPerDay: 5.444 });
    expect(fig.flink.floor).toEqual({ kpus: 2, dollarsPerDay: 5.444 });
    expect(fig.riffleCheaperThanFlinkFloor).toBe(false);
    expect(fig.riffleCheaperMeanRates).toEqual([]);
    // The curve steps where Flink adds a KPU: a peak of 117,000 events/s is a mean of 2,340.
    const at = (m: number) => fig.byMeanRate.find((c) => c.meanRate === m);
    expect(at(2340)?.flinkPeakSized).toBe(5.444);
    expect(at(2340.23)?.flinkPeakSized).toBeCloseTo(24 * (0.33 + 10 / 730), 3);
    expect(fig.byMeanRate.every((c) => c.flinkFloor === 5.444)).toBe(true);
  });

  it("finds the mean rates where riffle is the cheaper when its idle hours cost nothing", () => {
    const free = burstyDayFigure(
      {
        ...run,
        total: { usage: usage({ dynamoWriteUnits: 1200 }), seconds: 24 },
        idle: { usage: usage(), seconds: 9 },
        queues: 0,
      },
      p,
    );
    expect(free.riffleCheaperThanFlinkFloor).toBe(true);
    // riffle: $0.625 per million events + storage; Flink: $5.444 a day up to a mean of 2,340 events/s.
    const [range] = free.riffleCheaperMeanRates;
    expect(range?.from).toBe(1);
    expect(range?.to).toBeGreaterThan(90);
    expect(range?.to).toBeLessThan(101); // $5.444 / ($0.054 + $0.00016 of storage a day per event/s) ≈ 100
  });

  it("draws cost per day against mean rate as an SVG", () => {
    const svg = costSvg(fig, { date: "2026-12-06T00:00:00.000Z", quick: true });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/<title>Cost per day against mean event rate/);
    expect(svg).toMatch(/<desc>At the bursty day's mean of 50 events\/s riffle costs \$24.33 a day/);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain("riffle $24.33");
    expect(svg).toContain("a --quick run of 2026-12-06");
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  });
});
