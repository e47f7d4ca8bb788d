/** The `Clock` port: processing time comes from here, never from `Date.now()` in operators. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** A clock that moves only when told; `sleep` advances it instantly. For tests and deterministic runs. */
export class ManualClock implements Clock {
  private time: number;
  constructor(start = 0) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }
  sleep(ms: number): Promise<void> {
    this.time += ms;
    return Promise.resolve();
  }
}
