/**
 * The async I/O operator (see `AsyncDataStream`): the head of its task. Before a
 * slice is processed, {@link AsyncWaitOperator.prefetch} runs the async function
 * on every record the slice consumed (at most `capacity` calls at a time, each
 * bounded by `timeoutMs`) and keeps the outcomes by envelope; processing then emits
 * them synchronously, in input order (ordered) or completion order (unordered).
 */

import { AsyncTimeoutError, InternalError, OperatorError } from "../errors.ts";
import { ForwardingOperator, type Operator } from "./operator.ts";

/** The settings of an async node. */
export interface AsyncSpec {
  readonly fn: (value: unknown) => Promise<unknown>;
  readonly ordered: boolean;
  readonly timeoutMs: number;
  readonly capacity: number;
}

/** One call's outcome, with the event time of its input. */
type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
type Timed = Outcome & { readonly time: number | undefined };

/** Runs an async function per record; see the module comment. */
export class AsyncWaitOperator extends ForwardingOperator {
  private readonly spec: AsyncSpec;
  /** Outcomes of the prefetched envelopes, by their records array. */
  private results = new Map<readonly unknown[], Timed[]>();
  private current: Timed[] | undefined;
  private index = 0;

  constructor(uid: string, next: Operator, spec: AsyncSpec) {
    super(uid, next);
    this.spec = spec;
  }

  /** Calls the function for the records of each envelope (times: event times, index-aligned) and awaits all. */
  async prefetch(envelopes: readonly { records: readonly unknown[]; times?: readonly number[] }[]): Promise<void> {
    this.results = new Map();
    const jobs: { records: readonly unknown[]; i: number; time: number | undefined }[] = [];
    for (const e of envelopes) {
      for (let i = 0; i < e.records.length; i++) {
        const t = e.times?.[i];
        jobs.push({ records: e.records, i, time: typeof t === "number" && !Number.isNaN(t) ? t : undefined });
      }
      this.results.set(e.records, []);
    }
    const done = new Map<readonly unknown[], (Timed | undefined)[]>();
    for (const e of envelopes) done.set(e.records, new Array(e.records.length));
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as (typeof jobs)[number];
        const outcome = { ...(await this.call(job.records[job.i])), time: job.time } as Timed;
        if (this.spec.ordered) (done.get(job.records) as Timed[])[job.i] = outcome;
        else this.results.get(job.records)?.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.spec.capacity, jobs.length) }, worker));
    if (this.spec.ordered) for (const [records, outs] of done) this.results.set(records, outs as Timed[]);
  }

  private async call(value: unknown): Promise<Outcome> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AsyncTimeoutError(this.spec.timeoutMs)), this.spec.timeoutMs);
    });
    try {
      return { ok: true, value: await Promise.race([Promise.resolve().then(() => this.spec.fn(value)), timeout]) };
    } catch (error) {
      return { ok: false, error };
    } finally {
      clearTimeout(timer);
    }
  }

  startRecords(records: readonly unknown[]): void {
    this.current = this.results.get(records);
    this.index = 0;
  }

  processRecord(_value: unknown, time: number | undefined): void {
    const outcome = this.current?.[this.index++];
    if (!outcome)
      throw new InternalError(`async operator ${this.uid}: a record was processed without being prefetched`);
    if (!outcome.ok) throw new OperatorError(this.uid, outcome.error);
    this.next.processRecord(outcome.value, this.spec.ordered ? time : outcome.time, 0);
  }
}
