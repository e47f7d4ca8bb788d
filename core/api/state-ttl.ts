/**
 * State time-to-live, like Flink's `StateTtlConfig`: a keyed value (a map entry, a
 * list element) expires `ttl` ms of processing time after it was last written (or
 * read, with `OnReadAndWrite`). Processing time is the runtime's `Clock`, the same
 * one processing-time timers use. Expired values are removed when read (cleanup on
 * read) and by a processing-time cleanup timer the operator sets per key at expiry.
 */

import { JobDefinitionError } from "../errors.ts";

/** When a value's time-to-live restarts. */
export type TtlUpdateType = "OnCreateAndWrite" | "OnReadAndWrite";
/** Whether an expired value that is still stored may be returned. */
export type TtlStateVisibility = "NeverReturnExpired" | "ReturnExpiredIfNotCleanedUp";

/** A built TTL configuration; pass it as `{ ttl }` to a state descriptor. */
export interface StateTtlConfig {
  /** Time-to-live in ms of processing time. */
  readonly ttlMs: number;
  readonly updateType: TtlUpdateType;
  readonly visibility: TtlStateVisibility;
}

/** Builds a {@link StateTtlConfig}. */
export class StateTtlConfigBuilder {
  private updateType: TtlUpdateType = "OnCreateAndWrite";
  private visibility: TtlStateVisibility = "NeverReturnExpired";
  private readonly ttlMs: number;
  /** @internal */
  constructor(ttlMs: number) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new JobDefinitionError(`state TTL must be a positive number of ms, got ${ttlMs}`);
    }
    this.ttlMs = ttlMs;
  }
  /** `OnCreateAndWrite` (default): writes restart the TTL; `OnReadAndWrite`: reads do too. */
  setUpdateType(updateType: TtlUpdateType): this {
    this.updateType = updateType;
    return this;
  }
  /** `NeverReturnExpired` (default), or `ReturnExpiredIfNotCleanedUp`. */
  setStateVisibility(visibility: TtlStateVisibility): this {
    this.visibility = visibility;
    return this;
  }
  build(): StateTtlConfig {
    return { ttlMs: this.ttlMs, updateType: this.updateType, visibility: this.visibility };
  }
}

/**
 * Entry point of TTL configs, named as in Flink.
 *
 * @example
 * ```ts
 * state: { last: valueState<number>({ ttl: StateTtlConfig.newBuilder(60_000).build() }) }
 * ```
 */
export const StateTtlConfig = {
  /** A builder for a TTL of `ttlMs` ms of processing time. */
  newBuilder: (ttlMs: number) => new StateTtlConfigBuilder(ttlMs),
};
