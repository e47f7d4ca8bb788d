/** In-memory implementation of the {@link TimerHints} port. */

import type { TimerHint, TimerHints } from "../ports/timer-hints.ts";

/** Keeps the hints in a map per job. */
export class InMemoryTimerHints implements TimerHints {
  private readonly jobs = new Map<string, Map<string, TimerHint>>();
  /** Writes by {@link record}, for tests that count them. */
  records = 0;

  async record(job: string, task: string, partition: number, at: number | undefined): Promise<void> {
    this.records++;
    let m = this.jobs.get(job);
    if (!m) {
      m = new Map();
      this.jobs.set(job, m);
    }
    const key = `${task}#${partition}`;
    if (at === undefined) m.delete(key);
    else m.set(key, { task, partition, at });
  }

  async list(job: string): Promise<TimerHint[]> {
    return [...(this.jobs.get(job)?.values() ?? [])];
  }

  async markTicked(job: string, hint: TimerHint, now: number): Promise<boolean> {
    const m = this.jobs.get(job);
    const key = `${hint.task}#${hint.partition}`;
    const cur = m?.get(key);
    if (!m || cur?.at !== hint.at) return false;
    m.set(key, { ...cur, tickedAt: now });
    return true;
  }
}
