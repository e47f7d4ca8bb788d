/**
 * The async I/O operator (see `AsyncDataStream`): the head of its task. Before a
 * slice is processed, {@link AsyncWaitOperator.prefetch} runs the async function
 * on every record the slice consumed (at most `capacity` calls at a time, each
 * bounded by `timeoutMs`) and keeps the outcomes by envelope; processing then emits
 * them synchronously, in input order (ordered) or completion order (unordered).
 */

import { Limiter } from "../concurrency.ts";
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
 * per record); `site` names the slice (see `sliceSite`). `limiter`, the
 * operator's, bounds the partition's calls in flight across a slice's calls and
 * those started ahead for the next (without it, one call's own); a batch that runs
 * its calls through it lets the operator call ahead whenever a place frees.
 */
export type AsyncBatch = ((
  envelopes: readonly BatchEnvelope[],
  site: string,
  limiter?: Limiter,
) => Promise<BatchAnswers[]>) & {
  /**
   * Records worth a call of their own (a remote function's `batchSize`): a place that
   * frees starts calls ahead only for at least as many, not for each envelope as it
   * comes (which would cut smaller requests).
   */
  readonly batchRecords?: number;
};

/** The settings of an async node. */
export interface AsyncSpec {
  readonly fn: (value: unknown) => Promise<unknown>;
  readonly ordered: boolean;
  readonly timeoutMs: number;
  readonly capacity: number;
  readonly batch?: AsyncBatch;
}

/**
 * Most envelopes with calls ahead that a partition keeps answers for: a queue shows
 * at most a batch of them beyond those a step received (see `TaskRunnerOptions.lookAhead`),
 * so more means answers for envelopes that will not come (a queue rebuilt after a
 * failover): the oldest go.
 */
const AHEAD_MOST = 64;

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
  /**
   * Batch mode: answers of calls started ahead of their slice, by records array
   * (undefined: the call failed), in the order of the queue.
   */
  private readonly ahead = new Map<readonly unknown[], Promise<BatchAnswers | undefined>>();
  /** Batch mode: the partition's calls in flight, at most `capacity` (a slice's, then those started ahead). */
  private readonly limiter: Limiter;
  /** Batch mode: the envelopes next in line, for calls ahead (see {@link aheadFrom}). */
  private nextInLine: (() => readonly BatchEnvelope[]) | undefined;

  constructor(uid: string, next: Operator, spec: AsyncSpec, partition = 0) {
    super(uid, next);
    this.spec = spec;
    this.partition = partition;
    this.limiter = new Limiter(spec.capacity, () => {
      // A place is free: keep the function busy, with requests as large as a slice's.
      if (this.nextInLine) this.lookAhead(this.nextInLine(), spec.batch?.batchRecords);
    });
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

  /**
   * Batch mode: starts the calls for envelopes that the next slices will likely
   * consume (see `TaskRunnerOptions.lookAhead`), unless already started; a slice
   * that consumes them takes their answers, and drops those of envelopes before them
   * in the queue that it passed by. A call that fails outright is made again then.
   * True when it started a call: none for fewer than `least` records.
   */
  lookAhead(envelopes: readonly BatchEnvelope[], least = 1): boolean {
    const batch = this.spec.batch;
    const fresh = envelopes.filter((e) => !this.ahead.has(e.records));
    if (!batch || fresh.reduce((n, e) => n + e.records.length, 0) < least) return false;
    const outs = batch(fresh, this.site(fresh), this.limiter).catch(() => undefined);
    fresh.forEach((e, k) => {
      this.ahead.set(
        e.records,
        outs.then((o) => o?.[k]),
      );
    });
    for (const k of this.ahead.keys()) {
      if (this.ahead.size <= AHEAD_MOST) break;
      this.ahead.delete(k);
    }
    return true;
  }

  /**
   * Batch mode: calls ahead for the envelopes `next` gives (those next in line in the
   * partition's queue) now, and again whenever one of the partition's calls ends with
   * its place free, so the function has work while riffle processes and commits a
   * slice and the source reads the next. True when it started a call.
   */
  aheadFrom(next: () => readonly BatchEnvelope[]): boolean {
    this.nextInLine = next;
    return this.lookAhead(next());
  }

  /** Batch mode: the slice's answers in input order (each record's own time applies), one call for those not looked ahead. */
  private async prefetchBatch(batch: AsyncBatch, envelopes: readonly BatchEnvelope[]): Promise<void> {
    this.answers = new Map();
    if (envelopes.every((e) => e.records.length === 0)) return;
    const ahead = envelopes.map((e) => this.takeAhead(e.records));
    const call = async (es: readonly BatchEnvelope[]) => {
      if (es.length === 0) return;
      const outs = await batch(es, this.site(es), this.limiter);
      es.forEach((e, k) => {
        this.answers.set(e.records, outs[k] ?? { values: [], many: false });
      });
    };
    const [, early] = await Promise.all([call(envelopes.filter((_, k) => ahead[k] === undefined)), Promise.all(ahead)]);
    const missed: BatchEnvelope[] = [];
    envelopes.forEach((e, k) => {
      const a = early[k];
      if (a !== undefined) this.answers.set(e.records, a);
      else if (ahead[k] !== undefined) missed.push(e);
    });
    await call(missed);
  }

  /** The call ahead for `records`, if any, taken out with those ahead of it in the queue (passed by: stale). */
  private takeAhead(records: readonly unknown[]): Promise<BatchAnswers | undefined> | undefined {
    const answer = this.ahead.get(records);
    if (answer === undefined) return undefined;
    for (const k of this.ahead.keys()) {
      this.ahead.delete(k);
      if (k === records) break;
    }
    return answer;
  }

  /** The idempotency site of a call for `envelopes`. */
  private site(envelopes: readonly BatchEnvelope[]): string {
    return sliceSite(`p${this.partition}`, envelopes);
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
