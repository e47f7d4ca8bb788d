/**
 * The Nexmark stream as a riffle source: fixed splits, each generating its share of
 * event ids with the deterministic generator (`generator.ts`).
 */

import type { Source, SourceChunk, SourceSplit, SplitReader } from "../api/source.ts";
import { nexmarkEvent } from "./generator.ts";
import type { NexmarkConfig, NexmarkEvent } from "./model.ts";

/** Options of {@link nexmarkSource}. */
export interface NexmarkSourceOptions {
  /** Number of splits (default 16): the most partitions that can read in parallel, at any rescale. */
  readonly splits?: number;
}

/** Throws a RangeError unless `config` is usable. */
export function validateNexmarkConfig(config: NexmarkConfig): void {
  if (!Number.isSafeInteger(config.seed)) throw new RangeError(`nexmark: seed must be an integer, got ${config.seed}`);
  if (!(Number.isFinite(config.rate) && config.rate > 0)) {
    throw new RangeError(`nexmark: rate must be a positive number, got ${config.rate}`);
  }
  if (config.events !== undefined && !(Number.isSafeInteger(config.events) && config.events >= 0)) {
    throw new RangeError(`nexmark: events must be a non-negative integer, got ${config.events}`);
  }
  if (!Number.isSafeInteger(config.baseTime)) {
    throw new RangeError(`nexmark: baseTime must be an integer (epoch ms), got ${config.baseTime}`);
  }
}

/**
 * The Nexmark stream as a source. It has a fixed number of splits S whatever the
 * parallelism; split s generates event ids `s, s + S, s + 2S, …` (below
 * `config.events` when bounded). Position = the next event id of the split. Chunk
 * `times` are the events' `dateTime`. Bounded iff `config.events` is set. The rate
 * sets event-time density only: readers generate as fast as they are read.
 */
export function nexmarkSource(config: NexmarkConfig, options: NexmarkSourceOptions = {}): Source<NexmarkEvent> {
  validateNexmarkConfig(config);
  const cfg: NexmarkConfig = {
    seed: config.seed,
    rate: config.rate,
    ...(config.events === undefined ? {} : { events: config.events }),
    baseTime: config.baseTime,
  };
  const events = cfg.events;
  const splitCount = options.splits ?? 16;
  if (!Number.isSafeInteger(splitCount) || splitCount < 1) {
    throw new RangeError(`nexmark: splits must be a positive integer, got ${splitCount}`);
  }
  return {
    name: "nexmark",
    bounded: events !== undefined,
    splits: () => Array.from({ length: splitCount }, (_, s) => ({ id: String(s), first: s, stride: splitCount })),
    reader: (split: SourceSplit, position: unknown): SplitReader<NexmarkEvent> => {
      const first = split.first;
      const stride = split.stride;
      if (typeof first !== "number" || typeof stride !== "number" || stride !== splitCount) {
        throw new RangeError(`nexmark: split '${split.id}' is not a split of this source (${splitCount} splits)`);
      }
      let next = first;
      if (position !== undefined) {
        if (
          typeof position !== "number" ||
          !Number.isSafeInteger(position) ||
          position < first ||
          (position - first) % stride !== 0
        ) {
          throw new RangeError(`nexmark: invalid position ${JSON.stringify(position)} for split '${split.id}'`);
        }
        next = position;
      }
      return {
        read(max: number): SourceChunk<NexmarkEvent> {
          const records: NexmarkEvent[] = [];
          const times: number[] = [];
          while (records.length < max && (events === undefined || next < events)) {
            const event = nexmarkEvent(next, cfg);
            records.push(event);
            times.push(event.dateTime);
            next += stride;
          }
          return { records, times, position: next, done: events !== undefined && next >= events };
        },
      };
    },
  };
}
