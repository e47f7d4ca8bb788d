/**
 * `riffle nexmark generate`: the deterministic Nexmark stream as JSON lines, for
 * oracles (DuckDB) and inspection. The command line wires these functions.
 */

import { UsageError } from "../errors.ts";
import { nexmarkEvent } from "./generator.ts";
import { DEFAULT_NEXMARK_BASE_TIME, DEFAULT_NEXMARK_RATE, type NexmarkConfig } from "./model.ts";

/** Options of {@link nexmarkGenerateCommand}. */
export interface NexmarkGenerateOptions {
  /** Number of events (ids 0 … events − 1). */
  readonly events: number;
  readonly seed: number;
  /** Events per second of event time. */
  readonly rate: number;
}

/** Default seed when `--seed` is not given. */
export const DEFAULT_NEXMARK_SEED = 0;

/** Events per write: large enough to amortize the write, small enough to keep memory flat. */
const LINES_PER_CHUNK = 4096;

const NON_NEGATIVE_INTEGER = /^\d+$/;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Validates raw flag values. `--events` is required (a non-negative integer);
 * `--seed` (an integer) defaults to 0 and `--rate` (a positive number) to 10,000.
 * Throws a {@link UsageError} with a one-line message naming the flag and value.
 */
export function parseNexmarkOptions(raw: { events?: string; seed?: string; rate?: string }): NexmarkGenerateOptions {
  if (raw.events === undefined) throw new UsageError("missing --events: expected a non-negative integer");
  const events = Number(raw.events);
  if (!NON_NEGATIVE_INTEGER.test(raw.events) || !Number.isSafeInteger(events)) {
    throw new UsageError(`invalid --events '${raw.events}': expected a non-negative integer`);
  }
  let seed = DEFAULT_NEXMARK_SEED;
  if (raw.seed !== undefined) {
    seed = Number(raw.seed);
    if (!INTEGER.test(raw.seed) || !Number.isSafeInteger(seed)) {
      throw new UsageError(`invalid --seed '${raw.seed}': expected an integer`);
    }
  }
  let rate = DEFAULT_NEXMARK_RATE;
  if (raw.rate !== undefined) {
    rate = Number(raw.rate);
    if (!DECIMAL.test(raw.rate) || !Number.isFinite(rate) || rate <= 0) {
      throw new UsageError(`invalid --rate '${raw.rate}': expected a positive number`);
    }
  }
  return { events, seed, rate };
}

/**
 * Writes events 0 … events − 1 to `out`, one JSON object per line in event-id
 * order: `{"type":…, …fields}` with the model's field order and times as epoch ms.
 * Writes in chunks and waits for 'drain' when `out` pushes back, so memory stays
 * flat at any event count. Resolves once the last chunk is flushed.
 */
export async function nexmarkGenerateCommand(
  opts: NexmarkGenerateOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const config: NexmarkConfig = {
    seed: opts.seed,
    rate: opts.rate,
    events: opts.events,
    baseTime: DEFAULT_NEXMARK_BASE_TIME,
  };
  let failure: unknown;
  const onError = (error: unknown) => {
    failure ??= error;
  };
  out.on("error", onError);
  try {
    let e = 0;
    while (e < opts.events) {
      const end = Math.min(opts.events, e + LINES_PER_CHUNK);
      let chunk = "";
      for (; e < end; e++) chunk += `${JSON.stringify(nexmarkEvent(e, config))}\n`;
      if (failure !== undefined) throw failure;
      if (!out.writable) throw new Error("output closed before all events were written");
      if (e < opts.events) {
        if (!out.write(chunk)) await drained(out);
      } else {
        await new Promise<void>((resolve, reject) => {
          out.write(chunk, (error?: Error | null) => (error ? reject(error) : resolve()));
        });
      }
    }
    if (failure !== undefined) throw failure;
  } finally {
    out.removeListener("error", onError);
  }
}

/** Resolves on 'drain', rejects if the stream errors or closes first. */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      out.removeListener("drain", onDrain);
      out.removeListener("error", onError);
      out.removeListener("close", onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("output closed before all events were written"));
    };
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
  });
}
