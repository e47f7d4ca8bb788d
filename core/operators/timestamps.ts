/**
 * Assigns event times and generates watermarks (after each input envelope),
 * replacing whatever watermarks arrive from upstream. Its largest timestamp seen
 * is partition-scoped operator state, so a restored partition continues from it.
 */

import type { WatermarkStrategy } from "../api/watermarks.ts";
import { IDLE_WATERMARK } from "../envelope.ts";
import { OperatorError } from "../errors.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";

/** `assignTimestampsAndWatermarks(strategy)`. */
export class TimestampsOperator extends ForwardingOperator {
  private readonly strategy: WatermarkStrategy<unknown>;
  private readonly services: TaskServices;
  private readonly stateKey: string;
  private max: number | undefined;
  private emitted = Number.NEGATIVE_INFINITY;
  private loaded = false;
  /** Records arrived since the last flush. */
  private active = false;
  private idle = false;
  private lastRecordAt: number | undefined;

  constructor(uid: string, next: Operator, strategy: WatermarkStrategy<unknown>, services: TaskServices) {
    super(uid, next);
    this.strategy = strategy;
    this.services = services;
    this.stateKey = `wm:${uid}`;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const st = this.services.operatorState.get(this.stateKey) as { max: number; emitted: number } | undefined;
    if (st) {
      this.max = st.max;
      this.emitted = st.emitted;
    }
  }

  processRecord(value: unknown, time: number | undefined): void {
    this.load();
    let ts: number;
    try {
      const assign = this.strategy.timestampAssigner;
      ts = assign ? assign(value, time) : (time as number);
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    if (typeof ts !== "number" || !Number.isFinite(ts)) {
      throw new OperatorError(
        this.uid,
        new TypeError(`record has no event time (got ${String(ts)}): give the strategy a timestamp assigner`),
      );
    }
    if (this.max === undefined || ts > this.max) this.max = ts;
    this.active = true;
    this.next.processRecord(value, ts, 0);
  }

  override flush(): void {
    this.load();
    const now = this.services.now;
    if (this.active) {
      this.active = false;
      this.lastRecordAt = now;
      const wm = (this.max as number) - this.strategy.outOfOrdernessMs - 1;
      // Back from idle: say so with a real watermark even if it did not advance.
      if (wm > this.emitted || this.idle) {
        this.emitted = Math.max(this.emitted, wm);
        this.idle = false;
        this.services.operatorState.set(this.stateKey, { max: this.max, emitted: this.emitted });
        this.next.processWatermark(this.emitted);
      }
    } else {
      const timeout = this.strategy.idleTimeoutMs;
      this.lastRecordAt ??= now;
      if (timeout !== undefined && !this.idle && now - this.lastRecordAt >= timeout) {
        this.idle = true;
        this.next.processWatermark(IDLE_WATERMARK);
      }
    }
    this.next.flush?.();
  }

  /** Upstream watermarks are replaced by this operator's own. */
  override processWatermark(): void {}
}
