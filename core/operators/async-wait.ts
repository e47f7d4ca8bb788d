/**
 * The async I/O operator (see `AsyncDataStream`): the head of its task. Before a
 * slice is processed, {@link AsyncWaitOperator.prefetch} runs the async function
 * on every record the slice consumed (at most `capacity` calls at a time, each
 * bounded by `timeoutMs`) and keeps the outcomes by envelope; processing then emits
 * them synchronously, in input order (ordered) or completion order (unordered).
 */

import { AsyncTimeoutError, InternalError, OperatorError } from "../errors.ts";
import { ForwardingOperator, type Operator } from "./operator.ts";
import { type EnvelopeId, sliceSite } from "./slice-site.ts";

/**
 * One envelope's answers in batch mode, as columns (no object per record): record
 * `i`'s output (`many`: the array of its outputs, any number) is `values[i]`, unless
 * `errors` holds `i` (its error).
 */
export interface BatchAnswers {
  readonly values: readonly unknown[];
  readonly many: boolean;
  readonly errors?: ReadonlyMap<number, unknown> | undefined;
}

/** A slice's envelopes as batch mode gets them. */
export interface BatchEnvelope extends EnvelopeId {
  readonly records: readonly unknown[];
  readonly times?: readonly number[];
}

/**
 * Batch mode: answers every record of a slice's envelopes at once (per envelope,
 * per record); `site` names the slice (see `sliceSite`).
 */
export type AsyncBatch = (envelopes: readonly BatchEnvelope[], site: string) => Promise<BatchAnswers[]>;

/** The settings of an async node. */
export interface AsyncSpec {
  readonly fn: (value: unknown) => Promise<unknown>;
  readonly ordered: boolean;
  readonly timeoutMs: number;
  readonly capacity: number;
  readonly batch?: AsyncBatch;
}

/** One call's outcome, with the event time of its input (batch mode: in input order, so without). */
type Outcome =
  | { readonly ok: true; readonly value?: unknown; readonly many?: readonly unknown[] }
  | { readonly ok: false; readonly error: unknown };
type Timed = Outcome & { readonly time?: number | undefined };

/** Runs an async function per record; see the module comment. */
export class AsyncWaitOperator extends ForwardingOperator {
  private readonly spec: AsyncSpec;
  /** Outcomes of the prefetched envelopes, by their records array. */
  private results = new Map<readonly unknown[], Timed[]>();
  /** Batch mode: the answers of the prefetched envelopes, by their records array. */
  private answers = new Map<readonly unknown[], BatchAnswers>();
  private current: Timed[] | undefined;
  private currentAnswers: BatchAnswers | undefined;
  private index = 0;

  private readonly partition: number;

  constructor(uid: string, next: Operator, spec: AsyncSpec, partition = 0) {
    super(uid, next);
    this.spec = spec;
    this.partition = partition;
  }

  /** Calls the function for the records of each envelope (times: event times, index-aligned) and awaits all. */
  async prefetch(envelopes: readonly BatchEnvelope[]): Promise<void> {
    if (this.spec.batch) return this.prefetchBatch(this.spec.batch, envelopes);
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

  /** Batch mode: one call of `batch` for the slice; answers in input order (each record's own time applies). */
  private async prefetchBatch(batch: AsyncBatch, envelopes: readonly BatchEnvelope[]): Promise<void> {
    this.answers = new Map();
    if (envelopes.every((e) => e.records.length === 0)) return;
    const outs = await batch(envelopes, sliceSite(`p${this.partition}`, envelopes));
    envelopes.forEach((e, k) => {
      this.answers.set(e.records, outs[k] ?? { values: [], many: false });
    });
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
    if (this.spec.batch) this.currentAnswers = this.answers.get(records);
    else this.current = this.results.get(records);
    this.index = 0;
  }

  processRecord(_value: unknown, time: number | undefined): void {
    if (this.spec.batch) {
      this.emitAnswer(this.index++, time);
      return;
    }
    const outcome = this.current?.[this.index++];
    if (!outcome) throw this.unprefetched();
    if (!outcome.ok) throw new OperatorError(this.uid, outcome.error);
    if (outcome.many) {
      for (const v of outcome.many) this.next.processRecord(v, time, 0);
      return;
    }
    this.next.processRecord(outcome.value, this.spec.ordered ? time : outcome.time, 0);
  }

  /** Batch mode: emits record `i`'s answer of the current envelope (or throws its error). */
  private emitAnswer(i: number, time: number | undefined): void {
    const a = this.currentAnswers;
    if (!a) throw this.unprefetched();
    const error = a.errors?.get(i);
    if (error !== undefined || a.errors?.has(i)) throw new OperatorError(this.uid, error);
    if (i >= a.values.length) {
      throw new OperatorError(this.uid, new InternalError(`async operator ${this.uid}: no batch result`));
    }
    if (!a.many) {
      this.next.processRecord(a.values[i], time, 0);
      return;
    }
    for (const v of a.values[i] as readonly unknown[]) this.next.processRecord(v, time, 0);
  }

  private unprefetched(): InternalError {
    return new InternalError(`async operator ${this.uid}: a record was processed without being prefetched`);
  }
}
