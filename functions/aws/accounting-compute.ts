/**
 * What {@link RequestAccounting} counts besides requests: Lambda invocations (billed
 * duration and GB-seconds) per function, and Step Functions executions and state
 * transitions per state machine, each kept per origin (who caused it: the
 * coordinator, a task, ...), so a snapshot can show one origin or all of them.
 */

import type { LambdaStats, WorkflowStats, WorkflowType } from "./accounting-snapshot.ts";

/** Express workflows are billed for at least 64 MB, in 64 MB steps; a small state machine stays at 64. */
export const EXPRESS_MEMORY_MB = 64;
/** Express workflows bill duration in steps of 100 ms. */
export const EXPRESS_BILLING_STEP_MS = 100;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Lambda and Step Functions counters by origin; see the module comment. */
export class ComputeMeter {
  private readonly lambdas = new Map<string, Map<string, Mutable<LambdaStats>>>();
  private readonly workflows = new Map<string, Map<string, Mutable<WorkflowStats>>>();

  /** One Lambda invocation of `durationMs` (billed rounded up to 1 ms) at `memoryMb`. */
  invocation(origin: string, fn: string, durationMs: number, memoryMb: number): void {
    const billed = Math.max(1, Math.ceil(durationMs));
    const l = entry(this.lambdas, origin, fn, () => ({ invocations: 0, durationMs: 0, gbSeconds: 0 }));
    l.invocations += 1;
    l.durationMs += billed;
    l.gbSeconds += (memoryMb / 1024) * (billed / 1000);
  }

  /** `n` states entered by `machine`. */
  transitions(origin: string, machine: string, type: WorkflowType, n: number): void {
    this.workflow(origin, machine, type).transitions += n;
  }

  /**
   * `executions` executions of `machine` (default one) that ran `durationMs`. With
   * `executions: 0`, time of an execution still running, counted as it passes (not
   * rounded: its last part, counted with the execution, is).
   */
  execution(origin: string, machine: string, type: WorkflowType, durationMs: number, executions = 1): void {
    const w = this.workflow(origin, machine, type);
    w.executions += executions;
    if (type === "EXPRESS") {
      const step = EXPRESS_BILLING_STEP_MS;
      const billed = executions === 0 ? Math.max(0, durationMs) : Math.max(1, Math.ceil(durationMs / step)) * step;
      w.durationMs += billed;
      w.gbSeconds += (EXPRESS_MEMORY_MB / 1024) * (billed / 1000);
    } else w.durationMs += Math.max(0, durationMs);
  }

  /** Lambda counters of one origin, or of all (summed per function). */
  lambdaStats(origin?: string): Record<string, LambdaStats> {
    return merged(this.lambdas, origin, (a, b) => ({
      invocations: a.invocations + b.invocations,
      durationMs: a.durationMs + b.durationMs,
      gbSeconds: a.gbSeconds + b.gbSeconds,
    }));
  }

  /** Step Functions counters of one origin, or of all (summed per state machine). */
  workflowStats(origin?: string): Record<string, WorkflowStats> {
    return merged(this.workflows, origin, (a, b) => ({
      type: a.type,
      executions: a.executions + b.executions,
      transitions: a.transitions + b.transitions,
      durationMs: a.durationMs + b.durationMs,
      gbSeconds: a.gbSeconds + b.gbSeconds,
    }));
  }

  /** Origins that have counted something. */
  origins(): string[] {
    return [...this.lambdas.keys(), ...this.workflows.keys()];
  }

  reset(): void {
    this.lambdas.clear();
    this.workflows.clear();
  }

  private workflow(origin: string, machine: string, type: WorkflowType): Mutable<WorkflowStats> {
    const w = entry(this.workflows, origin, machine, () => ({
      type,
      executions: 0,
      transitions: 0,
      durationMs: 0,
      gbSeconds: 0,
    }));
    w.type = type;
    return w;
  }
}

function entry<V>(by: Map<string, Map<string, V>>, origin: string, name: string, init: () => V): V {
  let names = by.get(origin);
  if (!names) {
    names = new Map();
    by.set(origin, names);
  }
  let v = names.get(name);
  if (v === undefined) {
    v = init();
    names.set(name, v);
  }
  return v;
}

function merged<V extends object>(
  by: Map<string, Map<string, V>>,
  origin: string | undefined,
  add: (a: V, b: V) => V,
): Record<string, V> {
  const out = new Map<string, V>();
  for (const [o, names] of by) {
    if (origin !== undefined && o !== origin) continue;
    for (const [name, v] of names) {
      const prev = out.get(name);
      out.set(name, prev === undefined ? { ...v } : add(prev, v));
    }
  }
  return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)));
}
