/**
 * The message vocabulary: one queue message is one {@link Envelope}. An envelope
 * carries a run of data records followed by at most one control signal, so the hot
 * path handles plain arrays of values and no per-record wrapper objects.
 */

/**
 * The watermark an idle channel sends: the receiver leaves the channel out of its
 * minimum until a real watermark arrives on it again. (Finite, so it survives JSON.)
 */
export const IDLE_WATERMARK = Number.MAX_VALUE;

/** A watermark: no later record on this channel has an event time at or below `t`. */
export interface WatermarkSignal {
  readonly kind: "watermark";
  readonly t: number;
}
/** Checkpoint barrier `n`: a cut through every channel's log. */
export interface BarrierSignal {
  readonly kind: "barrier";
  readonly n: number;
}
/** End of input on this channel: nothing follows. Acts as watermark +∞. */
export interface EndSignal {
  readonly kind: "end";
}
/** Asks a source partition to read its next chunk of input. */
export interface PollSignal {
  readonly kind: "poll";
}
/** The processing clock moved: fire due processing-time timers. Never deduplicated. */
export interface TickSignal {
  readonly kind: "tick";
}

/** Starts (or after a restore, restarts) a source partition. */
export interface StartSignal {
  readonly kind: "start";
  /**
   * A windowed wake-up (`core/control/wake-window.ts`): the queue keeps one start per
   * partition and window, so the partition polls again at or after this time (ms)
   * whatever else wakes it, and reads what the dropped starts announced.
   */
  readonly until?: number;
}

/** Checkpoint `n` completed and its output is published: call the chain's `notifyCheckpointComplete(n)`. */
export interface CheckpointCompleteSignal {
  readonly kind: "checkpoint-complete";
  readonly n: number;
}

/** Everything that is not a data record. */
export type Signal =
  | WatermarkSignal
  | BarrierSignal
  | EndSignal
  | PollSignal
  | TickSignal
  | StartSignal
  | CheckpointCompleteSignal;

/**
 * One queue message from one upstream partition to one downstream partition.
 *
 * - `gen`: the job generation that produced it; older generations are dropped.
 * - `from`: the channel id (see {@link channelId}).
 * - `seq`: 1-based position on that channel; the receiver keeps the highest it
 *   has consumed and drops anything at or below it.
 */
export interface Envelope {
  readonly gen: number;
  readonly from: string;
  readonly seq: number;
  /** Data records, in order. */
  readonly records: unknown[];
  /** Event times of `records`, index-aligned, when the stream is timestamped. */
  readonly times?: number[];
  /** A signal that follows the records. */
  readonly signal?: Signal;
}

/** Channel id of the channel from `task[partition]` into a downstream partition. */
export function channelId(task: string, partition: number): string {
  return `${task}#${partition}`;
}

/** Channel on which a source partition sends poll signals to itself. */
export const POLL_CHANNEL = "$poll";
/** Channel of coordinator ticks; unsequenced, never deduplicated. */
export const TICK_CHANNEL = "$tick";
/** Channel on which the coordinator sends barriers to source partitions; seq = checkpoint id, gaps allowed. */
export const CONTROL_CHANNEL = "$ctl";
/** Unsequenced: (re)starts a source partition's polling in the current generation. */
export const START_CHANNEL = "$start";
/**
 * Channel of checkpoint-complete signals; seq = checkpoint id (so a repeated send
 * is deduplicated by the queue), but never sequenced or deduplicated by the receiver.
 */
export const NOTIFY_CHANNEL = "$notify";

/**
 * Prefix of replay channels: `$replay:<original channel>` carries dead-lettered
 * records sent back for another try. Sequenced by replay time, gaps allowed.
 */
export const REPLAY_PREFIX = "$replay:";

/**
 * The input channel that `channel` stands for: `channel` itself, or, for a replay
 * channel, the original channel with every replay prefix removed. A record that
 * dead-letters again after a replay carries the replay channel, so a later replay
 * of it must not stack a second prefix.
 */
export function originalChannel(channel: string): string {
  let c = channel;
  while (c.startsWith(REPLAY_PREFIX)) c = c.slice(REPLAY_PREFIX.length);
  return c;
}

/** The replay channel of `channel` (original or replay channel): always exactly one prefix. */
export function replayChannel(channel: string): string {
  return `${REPLAY_PREFIX}${originalChannel(channel)}`;
}

/** Where an envelope goes: a task and one of its partitions (the FIFO group). */
export interface Address {
  readonly task: string;
  readonly partition: number;
}

/** An envelope together with its destination, as recorded in a segment's outbox. */
export interface OutboxEntry {
  readonly to: Address;
  readonly envelope: Envelope;
}
