/**
 * The deterministic Nexmark generator (rules in NEXMARK.md).
 *
 * `nexmarkEvent(e, config)` is a pure function of the event id and the config: each
 * event draws from its own small PRNG (mulberry32) seeded from a hash of
 * (config.seed, e). So an event is the same whichever split generates it, wherever
 * that split starts, and at any parallelism. Byte-identical output is guaranteed for
 * a given Node/V8 version (prices use `Math.pow`, the only non-integer math).
 *
 * Draw order within an event (one draw = one 32-bit PRNG output):
 * - person: first name, last name, 7 + 5 email letters, 4 credit-card groups, city,
 *   state, then extra (size, offset; no draws when the extra is empty).
 * - auction: hot-seller coin [0,4), [random seller], category, initial bid, expires,
 *   item name (length, chars), description (length, chars), reserve price, extra.
 * - bid: hot-auction coin [0,2), [random auction], hot-bidder coin [0,4),
 *   [random bidder], price, hot-channel coin [0,2), channel index, extra.
 */

import type { Source, SourceChunk, SourceSplit, SplitReader } from "../api/source.ts";
import type { NexmarkConfig, NexmarkEvent } from "./model.ts";

/** Events per block: 1 person, 3 auctions, 46 bids. */
export const NEXMARK_PROPORTION_TOTAL = 50;
const AUCTION_PROPORTION = 3;
/** Id of the first person and of the first auction. */
export const NEXMARK_FIRST_PERSON_ID = 1000;
export const NEXMARK_FIRST_AUCTION_ID = 1000;
/** Categories are 10 … 14. */
export const NEXMARK_FIRST_CATEGORY_ID = 10;
export const NEXMARK_NUM_CATEGORIES = 5;
const NUM_ACTIVE_PEOPLE = 1000;
const PERSON_ID_LEAD = 10;
const NUM_IN_FLIGHT_AUCTIONS = 100;
const AUCTION_ID_LEAD = 10;
/** Hot values are multiples of this (plus 1 for the hot bidder). */
const HOT_ROUNDING = 100;
/** Probabilities: hot seller 3/4 (coin [0,4) > 0), hot auction 1/2 ([0,2) > 0), hot bidder 3/4 ([0,4) > 0). */
const HOT_SELLERS_RATIO = 4;
const HOT_AUCTIONS_RATIO = 2;
const HOT_BIDDERS_RATIO = 4;
/** floor(100 in-flight auctions × 50 / 3): the horizon h of an auction's life, in events. */
export const NEXMARK_AUCTION_HORIZON_EVENTS = Math.floor(
  (NUM_IN_FLIGHT_AUCTIONS * NEXMARK_PROPORTION_TOTAL) / AUCTION_PROPORTION,
);
/** Average event sizes (bytes of JSON) that `extra` pads toward. */
export const NEXMARK_AVG_PERSON_SIZE = 200;
export const NEXMARK_AVG_AUCTION_SIZE = 500;
export const NEXMARK_AVG_BID_SIZE = 100;
/** Number of non-hot channels (`channel-0` … `channel-9999`). */
export const NEXMARK_NUM_CHANNELS = 10_000;

export const NEXMARK_STATES: readonly string[] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
export const NEXMARK_CITIES: readonly string[] = [
  "Phoenix",
  "Los Angeles",
  "San Francisco",
  "Boise",
  "Portland",
  "Bend",
  "Redmond",
  "Seattle",
  "Kent",
  "Cheyenne",
];
export const NEXMARK_FIRST_NAMES: readonly string[] = [
  "Peter",
  "Paul",
  "Luke",
  "John",
  "Saul",
  "Vicky",
  "Kate",
  "Julie",
  "Sarah",
  "Deiter",
  "Walter",
];
export const NEXMARK_LAST_NAMES: readonly string[] = [
  "Shultz",
  "Abrams",
  "Spencer",
  "White",
  "Bartels",
  "Walton",
  "Smith",
  "Jones",
  "Noris",
];
export const NEXMARK_HOT_CHANNELS: readonly string[] = ["Google", "Facebook", "Baidu", "Apple"];
/** The fixed URL of each hot channel, index-aligned with {@link NEXMARK_HOT_CHANNELS}. */
export const NEXMARK_HOT_URLS: readonly string[] = NEXMARK_HOT_CHANNELS.map(
  (c) => `https://www.nexmark.com/${c.toLowerCase()}/item.htm?query=1`,
);
/** Name of non-hot channel i. */
export function nexmarkChannelName(i: number): string {
  return `channel-${i}`;
}
/** URL of non-hot channel i. */
export function nexmarkChannelUrl(i: number): string {
  return `https://www.nexmark.com/channel-${i}/item.htm?query=1&channel_id=${i}`;
}

// ---- precomputed tables ----------------------------------------------------------

const LETTERS: readonly string[] = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
const FULL_NAMES: readonly string[] = NEXMARK_FIRST_NAMES.flatMap((f) => NEXMARK_LAST_NAMES.map((l) => `${f} ${l}`));
const DIGITS4: readonly string[] = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"));
const CHANNELS: readonly string[] = Array.from({ length: NEXMARK_NUM_CHANNELS }, (_, i) => nexmarkChannelName(i));
const CHANNEL_URLS: readonly string[] = Array.from({ length: NEXMARK_NUM_CHANNELS }, (_, i) => nexmarkChannelUrl(i));

/**
 * Constant part of each kind's JSON length: `JSON.stringify` of the event without
 * `extra`, with every number 0 (1 char) and every string empty.
 */
const PERSON_OVERHEAD =
  JSON.stringify({
    type: "person",
    id: 0,
    name: "",
    emailAddress: "",
    creditCard: "",
    city: "",
    state: "",
    dateTime: 0,
  }).length - 2;
const AUCTION_OVERHEAD =
  JSON.stringify({
    type: "auction",
    id: 0,
    itemName: "",
    description: "",
    initialBid: 0,
    reserve: 0,
    dateTime: 0,
    expires: 0,
    seller: 0,
    category: 0,
  }).length - 7;
const BID_OVERHEAD =
  JSON.stringify({ type: "bid", auction: 0, bidder: 0, price: 0, channel: "", url: "", dateTime: 0 }).length - 4;

// ---- PRNG ------------------------------------------------------------------------

/** State of the current event's mulberry32 generator (events are generated synchronously, one at a time). */
let rngState = 0;

/** Next 32-bit output of mulberry32, as an unsigned integer. */
function nextU32(): number {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = Math.imul(rngState ^ (rngState >>> 15), rngState | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Uniform double in [0, 1) with 32 bits of resolution. */
function nextDouble(): number {
  return nextU32() / 4294967296;
}

/** Uniform integer in [0, n), n ≥ 1. */
function below(n: number): number {
  return Math.floor(nextDouble() * n);
}

/** Murmur3's 32-bit finalizer: a bijection on 32-bit integers with full avalanche. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

let keySeed = Number.NaN;
let keyHigh = Number.NaN;
let keyValue = 0;

/** Seeds the PRNG for event `e` (any safe integer ≥ 0) under `seed` (any safe integer). */
function seedEvent(seed: number, e: number): void {
  const high = Math.floor(e / 4294967296);
  if (seed !== keySeed || high !== keyHigh) {
    // Mixes the seed (both 32-bit halves) and the event id's high half into one key.
    const seedHigh = Math.floor(seed / 4294967296) | 0;
    keyValue = fmix32((fmix32((seed | 0) ^ fmix32(seedHigh ^ 0x3c6ef372)) + Math.imul(high | 0, 0x9e3779b1)) | 0);
    keySeed = seed;
    keyHigh = high;
  }
  // Distinct low halves give distinct states (fmix32 is a bijection).
  rngState = fmix32((e | 0) ^ keyValue);
}

// ---- values ----------------------------------------------------------------------

/** `round(10^(6u) × 100)` cents, u uniform in [0,1): 100 … 1e8. */
function nextPrice(): number {
  return Math.round(10 ** (nextDouble() * 6) * 100);
}

/** Length 3 + rand[0, max−3); each char a space with probability 1/13, else a letter a–z; trimmed. */
function nextString(max: number): string {
  const len = 3 + below(max - 3);
  let s = "";
  for (let i = 0; i < len; i++) {
    // One draw per char: k in [0, 338) = 13 × 26; k < 26 (1 in 13) is a space, else letter k mod 26.
    const k = Math.floor(nextDouble() * 338);
    s += k < 26 ? " " : (LETTERS[k % 26] as string);
  }
  return s.charCodeAt(0) === 32 || s.charCodeAt(s.length - 1) === 32 ? s.trim() : s;
}

/** Exactly `n` letters a–z. */
function nextLetters(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += LETTERS[below(26)] as string;
  return s;
}

const POOL_SIZE = 1 << 16;
/** Random letters a–z that `extra` is cut from (fixed: mulberry32 from state 0). */
const PADDING_POOL: string = (() => {
  const saved = rngState;
  rngState = 0;
  const chars: string[] = new Array(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) chars[i] = LETTERS[below(26)] as string;
  rngState = saved;
  return chars.join("");
})();

/**
 * Padding toward an average size (as Beam's `nextExtra`): with target = average −
 * current, empty if target ≤ 0, else `target − δ + rand[0, 2δ)` letters, δ =
 * round(0.2 × target) (exactly `target` when δ = 0). The letters are a slice of a
 * fixed random pool at a random offset: padding content carries no meaning.
 */
function nextExtra(currentSize: number, averageSize: number): string {
  const target = averageSize - currentSize;
  if (target <= 0) return "";
  const delta = Math.round(target * 0.2);
  const size = target - delta + (delta === 0 ? 0 : below(2 * delta));
  const offset = below(POOL_SIZE - size + 1);
  return PADDING_POOL.substring(offset, offset + size);
}

/** Number of characters of the decimal form of integer n (as JSON.stringify writes it). */
function decimalLength(n: number): number {
  if (n < 0) return 1 + decimalLength(-n);
  let len = 1;
  for (let p = 10; n >= p; p *= 10) len++;
  return len;
}

/** A random existing person index: n − active + rand[0, active + 10), n = lastPerson + 1. */
function randomPersonIndex(lastPerson: number): number {
  const n = lastPerson + 1;
  const active = n < NUM_ACTIVE_PEOPLE ? n : NUM_ACTIVE_PEOPLE;
  return n - active + below(active + PERSON_ID_LEAD);
}

/** A random auction index in [max(last − 100, 0), last + 11). */
function randomAuctionIndex(lastAuction: number): number {
  const min = lastAuction > NUM_IN_FLIGHT_AUCTIONS ? lastAuction - NUM_IN_FLIGHT_AUCTIONS : 0;
  return min + below(lastAuction - min + 1 + AUCTION_ID_LEAD);
}

// ---- events ----------------------------------------------------------------------

/** Event time of event `e`: baseTime + floor(e × interEventDelayUs / 1000), interEventDelayUs = 1e6 / rate. */
export function nexmarkEventTime(eventId: number, config: NexmarkConfig): number {
  return config.baseTime + Math.floor((eventId * (1e6 / config.rate)) / 1000);
}

/** Kind of event `e`: by e % 50, 0 → person, 1..3 → auction, else bid. */
export function nexmarkEventType(eventId: number): NexmarkEvent["type"] {
  const offset = eventId % NEXMARK_PROPORTION_TOTAL;
  return offset === 0 ? "person" : offset <= AUCTION_PROPORTION ? "auction" : "bid";
}

/**
 * Event `eventId` (a safe integer ≥ 0) of the stream `config` describes. Pure: the
 * result depends on nothing else. `events` of the config is not consulted.
 */
export function nexmarkEvent(eventId: number, config: NexmarkConfig): NexmarkEvent {
  const dateTime = config.baseTime + Math.floor((eventId * (1e6 / config.rate)) / 1000);
  seedEvent(config.seed, eventId);
  const epoch = Math.floor(eventId / NEXMARK_PROPORTION_TOTAL);
  const offset = eventId - epoch * NEXMARK_PROPORTION_TOTAL;
  // The last person created at or before this event is index `epoch`.
  if (offset === 0) return person(epoch, dateTime);
  if (offset <= AUCTION_PROPORTION) return auction(epoch, AUCTION_PROPORTION * epoch + offset - 1, dateTime, config);
  return bid(epoch, AUCTION_PROPORTION * epoch + AUCTION_PROPORTION - 1, dateTime);
}

function person(index: number, dateTime: number): NexmarkEvent {
  const id = NEXMARK_FIRST_PERSON_ID + index;
  const name = FULL_NAMES[
    below(NEXMARK_FIRST_NAMES.length) * NEXMARK_LAST_NAMES.length + below(NEXMARK_LAST_NAMES.length)
  ] as string;
  const emailAddress = `${nextLetters(7)}@${nextLetters(5)}.com`;
  const creditCard = `${DIGITS4[below(10_000)]} ${DIGITS4[below(10_000)]} ${DIGITS4[below(10_000)]} ${DIGITS4[below(10_000)]}`;
  const city = NEXMARK_CITIES[below(NEXMARK_CITIES.length)] as string;
  const state = NEXMARK_STATES[below(NEXMARK_STATES.length)] as string;
  // Current size = length of JSON.stringify(event without `extra`); no field needs escaping.
  const size =
    PERSON_OVERHEAD +
    decimalLength(id) +
    name.length +
    emailAddress.length +
    creditCard.length +
    city.length +
    state.length +
    decimalLength(dateTime);
  const extra = nextExtra(size, NEXMARK_AVG_PERSON_SIZE);
  return { type: "person", id, name, emailAddress, creditCard, city, state, dateTime, extra };
}

function auction(lastPerson: number, index: number, dateTime: number, config: NexmarkConfig): NexmarkEvent {
  const id = NEXMARK_FIRST_AUCTION_ID + index;
  const seller =
    NEXMARK_FIRST_PERSON_ID +
    (below(HOT_SELLERS_RATIO) > 0
      ? Math.floor(lastPerson / HOT_ROUNDING) * HOT_ROUNDING
      : randomPersonIndex(lastPerson));
  const category = NEXMARK_FIRST_CATEGORY_ID + below(NEXMARK_NUM_CATEGORIES);
  const initialBid = nextPrice();
  // h = event-time span of 1,666 events = floor(1666 × interEventDelayUs / 1000) ms (166 at the default rate).
  const horizon = Math.floor((NEXMARK_AUCTION_HORIZON_EVENTS * (1e6 / config.rate)) / 1000);
  const expires = dateTime + 1 + below(horizon > 0 ? 2 * horizon : 1);
  const itemName = nextString(20);
  const description = nextString(100);
  const reserve = initialBid + nextPrice();
  // Current size = length of JSON.stringify(event without `extra`); no field needs escaping.
  const size =
    AUCTION_OVERHEAD +
    decimalLength(id) +
    itemName.length +
    description.length +
    decimalLength(initialBid) +
    decimalLength(reserve) +
    decimalLength(dateTime) +
    decimalLength(expires) +
    decimalLength(seller) +
    decimalLength(category);
  const extra = nextExtra(size, NEXMARK_AVG_AUCTION_SIZE);
  return {
    type: "auction",
    id,
    itemName,
    description,
    initialBid,
    reserve,
    dateTime,
    expires,
    seller,
    category,
    extra,
  };
}

function bid(lastPerson: number, lastAuction: number, dateTime: number): NexmarkEvent {
  const auction =
    NEXMARK_FIRST_AUCTION_ID +
    (below(HOT_AUCTIONS_RATIO) > 0
      ? Math.floor(lastAuction / HOT_ROUNDING) * HOT_ROUNDING
      : randomAuctionIndex(lastAuction));
  const bidder =
    NEXMARK_FIRST_PERSON_ID +
    (below(HOT_BIDDERS_RATIO) > 0
      ? Math.floor(lastPerson / HOT_ROUNDING) * HOT_ROUNDING + 1
      : randomPersonIndex(lastPerson));
  const price = nextPrice();
  let channel: string;
  let url: string;
  if (below(2) === 0) {
    const i = below(NEXMARK_HOT_CHANNELS.length);
    channel = NEXMARK_HOT_CHANNELS[i] as string;
    url = NEXMARK_HOT_URLS[i] as string;
  } else {
    const i = below(NEXMARK_NUM_CHANNELS);
    channel = CHANNELS[i] as string;
    url = CHANNEL_URLS[i] as string;
  }
  // Current size = length of JSON.stringify(event without `extra`); no field needs escaping.
  // With the URL, a bid's JSON is already over 100 bytes, so a bid's extra is normally empty.
  const size =
    BID_OVERHEAD +
    decimalLength(auction) +
    decimalLength(bidder) +
    decimalLength(price) +
    channel.length +
    url.length +
    decimalLength(dateTime);
  const extra = nextExtra(size, NEXMARK_AVG_BID_SIZE);
  return { type: "bid", auction, bidder, price, channel, url, dateTime, extra };
}

// ---- source ----------------------------------------------------------------------

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
