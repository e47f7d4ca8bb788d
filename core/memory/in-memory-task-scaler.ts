/**
 * The embedded runtime's {@link TaskScaler}: the backlog is the in-memory queue's,
 * and the concurrency is only recorded (the scheduler runs every partition of the
 * current plan in turn, so there is no pool to resize).
 */

import type { TaskBacklog, TaskScaler } from "../ports/task-scaler.ts";

/** What the scaler reads of a queue. */
export interface BacklogSource {
  /** Messages in `task`'s queue, visible or in flight. */
  backlog(task: string): number;
}

/** The in-memory task scaler. */
export class InMemoryTaskScaler implements TaskScaler {
  private readonly queue: BacklogSource;
  /** The concurrency last set per task. */
  readonly concurrency = new Map<string, number>();

  constructor(queue: BacklogSource) {
    this.queue = queue;
  }

  async backlog(task: string): Promise<TaskBacklog> {
    return { visible: this.queue.backlog(task), inFlight: 0 };
  }

  async setConcurrency(task: string, concurrency: number): Promise<void> {
    this.concurrency.set(task, concurrency);
  }
}
