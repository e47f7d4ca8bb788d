/**
 * Turns the request counts of the aws-local runs into the benchmark's figures:
 * requests and billed units per million events by service and operation, Lambda
 * invocations and handler time, dollars per million events, the naive design, Managed
 * Flink, and the input rates at which riffle is the cheaper.
 */

import type { Plan } from "../core/graph/plan.ts";
import type { AccountingSnapshot } from "../functions/aws/accounting-snapshot.ts";
import { ESM_IDLE_RECEIVES_PER_QUEUE_HOUR, idlePollingDollarsPerHour, snapshotUsage } from "../functions/aws/usage.ts";
import type { AwsLocal } from "../functions/local/aws-local.ts";
import { type AccountingBreakdown, breakdown, type QueueTraffic, serviceTotals } from "./aws-accounting.ts";
import {
  type CoordinatorSteps,
  type Dollars,
  dollars,
  flinkDollarsPerHour,
  flinkKpus,
  flinkStorageDollarsPerHour,
  naiveDollarsPerMillion,
  type Prices,
  type RateRange,
  riffleCheaperRanges,
  riffleDollarsPerHour,
  scale,
  subtract,
  type Usage,
} from "./cost.ts";
import { FLINK_PER_CORE } from "./nexmark.ts";

/** Checkpoint intervals at which the fixed cost and the break-even rates are shown, seconds. */
export const INTERVALS_S = [1, 10, 60] as const;

const r2 = (x: number) => Number(x.toFixed(2));
const sig = (x: number) => Number(x.toPrecision(4));

/** The coordinator step counts of a run, from the Lambda function names `<job>-coordinator-<step>`. */
export function coordinatorSteps(s: AccountingSnapshot): CoordinatorSteps {
  const count = (step: string) =>
    Object.entries(s.lambda)
      .filter(([fn]) => fn.endsWith(`-coordinator-${step}`))
      .reduce((n, [, l]) => n + l.invocations, 0);
  return { round: count("round"), continueAsNew: count("continueAsNew") };
}

/**
 * Billable usage of a run: riffle's own requests, every Lambda, and the state
 * machine's transitions as the local interpreter counted them (so a change of the
 * coordinator's loop shows in the figures), plus `extraSqsRequests` (modelled receives).
 */
export function runUsage(s: AccountingSnapshot, extraSqsRequests = 0): Usage {
  return snapshotUsage(s, { sqsRequests: extraSqsRequests });
}

/** What the idle job cost: the fixed part of riffle's bill. */
export interface IdleFigure {
  readonly note: string;
  /** Seconds from the start until the coordinator first slept (the measurement begins then). */
  readonly asleepAfterSeconds?: number;
  readonly seconds: number;
  readonly queues: number;
  readonly rounds: number;
  readonly steps: CoordinatorSteps;
  /** Own requests per hour by service (SQS billed requests, DynamoDB units). */
  readonly perHour: ReturnType<typeof serviceTotals>;
  /** Own requests per hour by service and operation. */
  readonly perHourByOperation: AccountingBreakdown["own"];
  readonly lambdaInvocationsPerHour: number;
  readonly stateTransitionsPerHour: number;
  /** Usage of one coordinator round with everything else idle. */
  readonly usagePerRound: Usage;
  readonly dollarsPerRound: Dollars;
  /** Dollars per hour idle, measured (rounds as they ran) plus the mapping's modelled idle polling. */
  readonly dollarsPerHourMeasured: number;
  /** Dollars per hour idle of riffle's own requests, Lambdas and transitions alone (no modelled polling). */
  readonly dollarsPerHourOwn: number;
  /** Fixed dollars per hour at one round per checkpoint interval (1, 10, 60 s), plus modelled idle polling. */
  readonly fixedDollarsPerHour: Record<string, number>;
}

/** The idle figure from the idle job's snapshot over `seconds`. */
export function idleFigure(
  s: AccountingSnapshot,
  seconds: number,
  queues: number,
  p: Prices,
  asleepAfterSeconds?: number,
): IdleFigure {
  const steps = coordinatorSteps(s);
  const rounds = Math.max(1, steps.round);
  const usage = runUsage(s);
  const perHour = 3600 / seconds;
  const polling = idlePollingDollarsPerHour(queues, p);
  const perRound = scale(usage, 1 / rounds);
  const roundDollars = dollars(perRound, p);
  const fixed: Record<string, number> = {};
  for (const i of INTERVALS_S) fixed[`${i}s`] = sig(roundDollars.total * (3600 / i) + polling);
  return {
    note:
      "an ingest job (1 partition → keyed counter → sink, 2 tasks) receiving nothing, checkpoint every 1 s, " +
      "measured from when its coordinator first sleeps (at most 30 s after the start); " +
      `fixed cost = its own requests, Lambdas and state transitions per coordinator round × rounds, plus ${ESM_IDLE_RECEIVES_PER_QUEUE_HOUR} ` +
      "ReceiveMessage per queue-hour assumed for AWS's idle mapping (5 pollers × 20 s long polls)",
    ...(asleepAfterSeconds === undefined ? {} : { asleepAfterSeconds: r2(asleepAfterSeconds) }),
    seconds: r2(seconds),
    queues,
    rounds,
    steps,
    perHour: serviceTotals(breakdown(s, 1_000_000 / perHour).own),
    perHourByOperation: breakdown(s, 1_000_000 / perHour).own,
    lambdaInvocationsPerHour: sig(usage.lambdaInvocations * perHour),
    stateTransitionsPerHour: sig(usage.stateTransitions * perHour),
    usagePerRound: perRound,
    dollarsPerRound: roundDollars,
    dollarsPerHourMeasured: sig(dollars(scale(usage, perHour), p).total + polling),
    dollarsPerHourOwn: sig(dollars(scale(usage, perHour), p).total),
    fixedDollarsPerHour: fixed,
  };
}

/** One query's run on aws-local. */
export interface QueryRun {
  readonly query: string;
  readonly events: number;
  readonly snapshot: AccountingSnapshot;
  readonly traffic: Record<string, QueueTraffic>;
  readonly seconds: number;
  readonly startSeconds: number;
  readonly plan: Plan;
  readonly queues: AwsLocal["queues"];
  readonly rows: number;
}

/** One query's figures on aws-local. */
export interface AwsQueryFigure {
  readonly query: string;
  readonly events: number;
  readonly rows: number;
  /** From the deployment being up to the final checkpoint. */
  readonly wallSeconds: number;
  readonly startSeconds: number;
  readonly eventsPerSec: number;
  readonly tasks: { id: string; keyed: boolean; recordsIn: number; messagesIn: number }[];
  readonly statefulHops: number;
  readonly coordinator: CoordinatorSteps;
  /** Requests and billed units per million events, by class, service and operation. */
  readonly perMillionEvents: AccountingBreakdown & {
    readonly ownByService: ReturnType<typeof serviceTotals>;
    readonly pollingByService: ReturnType<typeof serviceTotals>;
    readonly stateTransitions: number;
    /** One ReceiveMessage per message delivered to a task queue: the priced stand-in for AWS's mapping. */
    readonly modelledReceives: number;
  };
  /** Lambda of the run (absolute): task functions and coordinator steps. */
  readonly lambdaRun: Record<"tasks" | "coordinator", { invocations: number; durationMs: number; gbSeconds: number }>;
  readonly dollarsPerMillionEvents: {
    readonly includes: string;
    /** Everything of the run at the emulator's rate, the coordinator's rounds included. */
    readonly measured: Dollars;
    /** Without the fixed part (the run's coordinator rounds at the idle job's cost per round). */
    readonly sustained: Dollars;
    /** `sustained` / stateful hops (keyed tasks); null without one. */
    readonly perStatefulHop: number | null;
  };
  readonly naive: {
    readonly note: string;
    readonly recordsPerHopPerEvent: number[];
    readonly dollarsPerMillionEvents: number;
    /** naive / riffle sustained. */
    readonly riffleCheaperBy: number;
  };
  readonly flink: {
    readonly perCore: number;
    readonly kpusAtMeasuredRate: number;
    readonly dollarsPerMillionEventsAtMeasuredRate: number;
    /** At full use of every KPU, orchestration KPU left out. */
    readonly dollarsPerMillionEventsAtFullKpu: number;
  };
  readonly riffleAtMeasuredRate: { readonly dollarsPerHour: number; readonly dollarsPerMillionEvents: number };
  /** Input rates (events/s) at which riffle costs less per hour than Managed Flink, by checkpoint interval. */
  readonly riffleCheaperRates: Record<string, RateRange[]>;
}

const lambdaGroup = (s: AccountingSnapshot, coordinator: boolean) => {
  const ls = Object.entries(s.lambda).filter(([fn]) => fn.includes("-coordinator-") === coordinator);
  return {
    invocations: ls.reduce((n, [, l]) => n + l.invocations, 0),
    durationMs: ls.reduce((n, [, l]) => n + l.durationMs, 0),
    gbSeconds: r2(ls.reduce((n, [, l]) => n + l.gbSeconds, 0)),
  };
};

/** The figures of one query's run, against the idle job's fixed cost. */
export function queryFigure(run: QueryRun, idle: IdleFigure, p: Prices): AwsQueryFigure {
  const { snapshot: s, events } = run;
  const k = 1_000_000 / events;
  const b = breakdown(s, events);
  const tasks = run.plan.tasks.map((t) => {
    const url = run.queues[t.id]?.url ?? "";
    const traffic = run.traffic[url] ?? { messages: 0, records: 0 };
    return { id: t.id, keyed: t.keyed, recordsIn: traffic.records, messagesIn: traffic.messages };
  });
  const messages = tasks.reduce((n, t) => n + t.messagesIn, 0);
  const steps = coordinatorSteps(s);
  const usage = runUsage(s, messages);
  const measured = dollars(scale(usage, k), p);
  const sustained = dollars(scale(subtract(usage, idle.usagePerRound, steps.round), k), p);
  const statefulHops = tasks.filter((t) => t.keyed).length;
  // Hops: the events entering the source task, then the records entering every other task.
  const recordsPerHopPerEvent = tasks.map((t, i) => r2(i === 0 ? 1 : t.recordsIn / events));
  const naive = naiveDollarsPerMillion(recordsPerHopPerEvent, p);
  const rate = events / run.seconds;
  const perCore = FLINK_PER_CORE[run.query] ?? Number.NaN;
  const flinkHour = flinkDollarsPerHour(rate, perCore, p);
  const fixed1s = idle.fixedDollarsPerHour["1s"] ?? 0;
  const riffleHour = riffleDollarsPerHour(rate, fixed1s, sustained.total);
  const ranges: Record<string, RateRange[]> = {};
  for (const i of INTERVALS_S) {
    ranges[`${i}s`] = riffleCheaperRanges(idle.fixedDollarsPerHour[`${i}s`] ?? 0, sustained.total, perCore, p);
  }
  return {
    query: run.query,
    events,
    rows: run.rows,
    wallSeconds: r2(run.seconds),
    startSeconds: r2(run.startSeconds),
    eventsPerSec: Math.round(rate),
    tasks,
    statefulHops,
    coordinator: steps,
    perMillionEvents: {
      ...b,
      ownByService: serviceTotals(b.own),
      pollingByService: serviceTotals(b.polling),
      stateTransitions: Math.round(usage.stateTransitions * k),
      modelledReceives: Math.round(messages * k),
    },
    lambdaRun: { tasks: lambdaGroup(s, false), coordinator: lambdaGroup(s, true) },
    dollarsPerMillionEvents: {
      includes:
        "SQS: riffle's own billed requests (sends, the mapping's deletes) + one ReceiveMessage per delivered message " +
        "(modelled; the emulator's polling is not priced); DynamoDB: read and write request units; Lambda: every " +
        "invocation and its GB-s at its memory (tasks 1024 MB, the round 256 MB) arm64 (durations measured against the emulators); Step Functions: every " +
        "state entered or retried, counted by the local interpreter (Express: executions and GB-s). Not included: " +
        "ingest (the source is a generator), API Gateway, storage (see the bursty day), CloudWatch, data transfer, free tiers",
      measured,
      sustained,
      perStatefulHop: statefulHops === 0 ? null : sig(sustained.total / statefulHops),
    },
    naive: {
      note:
        "one SQS message (1 billed request) + one DynamoDB write (1 WRU) per record per hop; hops = the events into " +
        "the source task, then the records into each other task, as counted in this run; receives, deletes, reads " +
        "and Lambda left out (a lower bound)",
      recordsPerHopPerEvent,
      dollarsPerMillionEvents: naive,
      riffleCheaperBy: sustained.total > 0 ? r2(naive / sustained.total) : Number.POSITIVE_INFINITY,
    },
    flink: {
      perCore,
      kpusAtMeasuredRate: flinkKpus(rate, perCore),
      dollarsPerMillionEventsAtMeasuredRate: sig((flinkHour * 1e6) / (rate * 3600)),
      // One processing KPU-hour (its running storage included; 2 KPUs hold one processing KPU's storage).
      dollarsPerMillionEventsAtFullKpu: sig(
        ((p.managedFlinkPerKpuHour.usd + flinkStorageDollarsPerHour(2, p)) * 1e6) / (perCore * 3600),
      ),
    },
    riffleAtMeasuredRate: {
      dollarsPerHour: sig(riffleHour),
      dollarsPerMillionEvents: sig((riffleHour * 1e6) / (rate * 3600)),
    },
    riffleCheaperRates: ranges,
  };
}
