/**
 * The Nexmark data model (see NEXMARK.md): one stream of people, auctions and bids.
 * Ids and prices are integers (prices in cents); times are epoch milliseconds.
 * Field order here is the order of the JSON output.
 */

/** A person registered on the auction site. */
export interface Person {
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** An auction opened by `seller` (a person id). */
export interface Auction {
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

/** A bid by `bidder` (a person id) on `auction` (an auction id). */
export interface Bid {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** One event of the Nexmark stream: a flat object with a `type` discriminator first. */
export type NexmarkEvent =
  | ({ readonly type: "person" } & Person)
  | ({ readonly type: "auction" } & Auction)
  | ({ readonly type: "bid" } & Bid);

/** The kind of a Nexmark event. */
export type NexmarkEventType = NexmarkEvent["type"];

/** Default event rate: events per second of event time. */
export const DEFAULT_NEXMARK_RATE = 10_000;

/** Default base time: 2015-07-15T00:00:00Z. */
export const DEFAULT_NEXMARK_BASE_TIME = Date.UTC(2015, 6, 15);

/** Parameters of the deterministic generator. The same config gives byte-identical events. */
export interface NexmarkConfig {
  /** Seed of the per-event PRNG (an integer). */
  readonly seed: number;
  /** Events per second of event time (default {@link DEFAULT_NEXMARK_RATE}); sets event-time density only. */
  readonly rate: number;
  /** Number of events; `undefined` means unbounded. */
  readonly events?: number;
  /** Event time of event 0, epoch ms (default {@link DEFAULT_NEXMARK_BASE_TIME}). */
  readonly baseTime: number;
}

/** A full config from a partial one, with the defaults filled in (seed 0). */
export function nexmarkConfig(partial: Partial<NexmarkConfig> = {}): NexmarkConfig {
  return {
    seed: partial.seed ?? 0,
    rate: partial.rate ?? DEFAULT_NEXMARK_RATE,
    ...(partial.events === undefined ? {} : { events: partial.events }),
    baseTime: partial.baseTime ?? DEFAULT_NEXMARK_BASE_TIME,
  };
}
