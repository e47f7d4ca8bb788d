/**
 * `riffle nexmark generate`: the deterministic Nexmark stream as JSON lines, for
 * oracles (DuckDB) and inspection. The command line wires these functions.
 */

import { OutputClosedError, UsageError } from "../errors.ts";
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

/** Bytes per write: large enough to amortize the write, small enough to keep memory flat. */
const CHUNK_BYTES = 1 << 20;

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
    // Lines are encoded straight into a chunk buffer (cheaper than concatenating a
    // large string and encoding it); a full chunk is written, then a new one started.
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let used = 0;
    for (let e = 0; e < opts.events; e++) {
      const line = JSON.stringify(nexmarkEvent(e, config));
      if (used + 3 * line.length + 1 > CHUNK_BYTES) {
        await write(out, chunk.subarray(0, used), false, () => failure);
        chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, 3 * line.length + 1));
        used = 0;
      }
      used += chunk.write(line, used);
      chunk[used++] = 0x0a;
    }
    await write(out, chunk.subarray(0, used), true, () => failure);
  } finally {
    out.removeListener("error", onError);
  }
}

/**
 * Writes `data`; waits for 'drain' when the stream pushes back, or, when `last`,
 * until the data is flushed. Throws if the stream has failed or closed.
 */
async function write(out: NodeJS.WritableStream, data: Buffer, last: boolean, failure: () => unknown): Promise<void> {
  const error = failure();
  if (error !== undefined) throw error;
  if (!out.writable) throw new OutputClosedError("output closed before all events were written");
  if (data.length === 0) return;
  if (last) {
    await new Promise<void>((resolve, reject) => {
      out.write(data, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  } else if (!out.write(data)) {
    await drained(out);
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
      reject(new OutputClosedError("output closed before all events were written"));
    };
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
  });
}
