/**
 * `hybridSource(history, live)`: Flink's HybridSource. One split reads every split
 * of the bounded `history` source to its end, then every split of the `live`
 * source. The switch is part of the position (a JSON value in riffle's
 * checkpoints), so a restore resumes in the history where the checkpoint says, or
 * in the live source at its recorded positions: nothing is read twice and nothing
 * is skipped. With `boundary`, the history's highest boundary value is recorded
 * too, and live records at or below it are dropped (they are in the history).
 */
import { JobDefinitionError } from "../errors.ts";
import { type IngestDescriptor, isIngestSource } from "./ingest.ts";
import type { Source, SourceChunk, SourceContext, SourceSplit, SplitReader } from "./source.ts";

/** Options of {@link hybridSource}. */
export interface HybridSourceOptions<T> {
  /**
   * A record's place in one order both sources share (a sequence number, a
   * timestamp): the live records at or below the history's highest are dropped, as
   * the history holds them. Without it every live record is passed on.
   */
  readonly boundary?: (record: T) => number;
}

/** The position of a hybrid split. JSON. */
export type HybridPosition =
  | { readonly phase: "history"; readonly split: number; readonly at: unknown; readonly upTo: number | null }
  | { readonly phase: "live"; readonly at: Record<string, unknown>; readonly upTo: number | null };

/** A hybrid source; it feeds the same ingest source as `live` when `live` is one. */
export type HybridSource<T> = Source<T> & { readonly ingest?: IngestDescriptor };

/**
 * The bounded `history`, then `live`, in one split (the switch is global: every
 * history record comes before every live one). Unbounded when `live` is.
 *
 * @example
 * ```ts
 * env.fromSource(hybridSource(filesSource("./history"), ingestSource("events"), { boundary: (e) => e.seq }))
 * ```
 */
export function hybridSource<T>(
  history: Source<T>,
  live: Source<T>,
  options: HybridSourceOptions<T> = {},
): HybridSource<T> {
  if (!history.bounded)
    throw new JobDefinitionError(`hybridSource: the history source '${history.name}' must be bounded`);
  const ingest = isIngestSource(live) ? { ingest: live.ingest } : {};
  return {
    name: `hybrid(${history.name},${live.name})`,
    bounded: live.bounded,
    fixedParallelism: 1,
    ...(live.checkpointListener ? { checkpointListener: true } : {}),
    ...ingest,
    splits: () => [{ id: "hybrid" }],
    reader: (_split, position, context) =>
      new HybridReader(history, live, options, position as HybridPosition | undefined, context),
  };
}

class HybridReader<T> implements SplitReader<T> {
  private pos: HybridPosition;
  private readonly historySplits: SourceSplit[];
  private readonly liveSplits: SourceSplit[];
  private current: SplitReader<T> | undefined;
  private readonly liveReaders = new Map<string, SplitReader<T>>();
  private turn = 0;
  private readonly history: Source<T>;
  private readonly live: Source<T>;
  private readonly options: HybridSourceOptions<T>;
  private readonly context: SourceContext | undefined;

  constructor(
    history: Source<T>,
    live: Source<T>,
    options: HybridSourceOptions<T>,
    position: HybridPosition | undefined,
    context: SourceContext | undefined,
  ) {
    this.history = history;
    this.live = live;
    this.options = options;
    this.context = context;
    this.historySplits = history.splits(1);
    this.liveSplits = live.splits(1);
    this.pos = position ?? { phase: "history", split: 0, at: undefined, upTo: null };
  }

  async read(max: number): Promise<SourceChunk<T>> {
    return this.pos.phase === "history" ? this.readHistory(max) : this.readLive(max);
  }

  private async readHistory(max: number): Promise<SourceChunk<T>> {
    const pos = this.pos as Extract<HybridPosition, { phase: "history" }>;
    const split = this.historySplits[pos.split];
    if (!split) {
      // The switch: the live source starts at its beginning, and this position is committed with the chunk.
      await this.current?.close?.();
      this.current = undefined;
      this.pos = { phase: "live", at: {}, upTo: pos.upTo };
      return { records: [], position: this.pos, done: false };
    }
    this.current ??= this.history.reader(split, pos.at, this.context);
    const chunk = await this.current.read(max);
    let upTo = pos.upTo;
    if (this.options.boundary)
      for (const r of chunk.records) {
        const b = this.options.boundary(r);
        if (upTo === null || b > upTo) upTo = b;
      }
    if (chunk.done) {
      await this.current.close?.();
      this.current = undefined;
      this.pos = { phase: "history", split: pos.split + 1, at: undefined, upTo };
    } else this.pos = { phase: "history", split: pos.split, at: chunk.position, upTo };
    return { records: chunk.records, position: this.pos, done: false };
  }

  /** One read of the next live split in turn that has records; idle when none has. */
  private async readLive(max: number): Promise<SourceChunk<T>> {
    const pos = this.pos as Extract<HybridPosition, { phase: "live" }>;
    let idle = true;
    let allDone = true;
    let wakeAt: number | undefined;
    for (let i = 0; i < this.liveSplits.length; i++) {
      const split = this.liveSplits[(this.turn + i) % this.liveSplits.length] as SourceSplit;
      if (pos.at[split.id] === DONE) continue;
      let reader = this.liveReaders.get(split.id);
      if (!reader) {
        reader = this.live.reader(split, pos.at[split.id], this.context);
        this.liveReaders.set(split.id, reader);
      }
      const chunk = await reader.read(max);
      const at = { ...pos.at, [split.id]: chunk.done ? DONE : chunk.position };
      this.pos = { phase: "live", at, upTo: pos.upTo };
      allDone &&= chunk.done;
      if (chunk.records.length > 0 || chunk.done) {
        this.turn = (this.turn + i + 1) % this.liveSplits.length;
        const { boundary } = this.options;
        const upTo = pos.upTo;
        const records = boundary && upTo !== null ? chunk.records.filter((r) => boundary(r) > upTo) : chunk.records;
        return { records, position: this.pos, done: false };
      }
      idle &&= chunk.idle === true;
      if (chunk.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? chunk.wakeAt, chunk.wakeAt);
    }
    if (allDone) return { records: [], position: this.pos, done: true };
    return { records: [], position: this.pos, done: false, ...(idle ? { idle, ...(wakeAt ? { wakeAt } : {}) } : {}) };
  }

  snapshotState(checkpointId: number, position: unknown): void {
    const p = position as HybridPosition | undefined;
    if (p?.phase !== "live") return;
    for (const [id, r] of this.liveReaders)
      if (p.at[id] !== undefined && p.at[id] !== DONE) r.snapshotState?.(checkpointId, p.at[id]);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    for (const r of this.liveReaders.values()) r.notifyCheckpointComplete?.(checkpointId);
  }

  async close(): Promise<void> {
    await this.current?.close?.();
    for (const r of this.liveReaders.values()) await r.close?.();
  }
}

/** The position of a live split read to its end. */
const DONE = "$done";
