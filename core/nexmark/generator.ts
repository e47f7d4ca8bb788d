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

import type { NexmarkConfig, NexmarkEvent } from "./model.ts";
import {
  AUCTION_ID_LEAD,
  AUCTION_OVERHEAD,
  AUCTION_PROPORTION,
  BID_OVERHEAD,
  CHANNEL_URLS,
  CHANNELS,
  DIGITS4,
  FULL_NAMES,
  HOT_AUCTIONS_RATIO,
  HOT_BIDDERS_RATIO,
  HOT_ROUNDING,
  HOT_SELLERS_RATIO,
  LETTERS,
  NEXMARK_AUCTION_HORIZON_EVENTS,
  NEXMARK_AVG_AUCTION_SIZE,
  NEXMARK_AVG_BID_SIZE,
  NEXMARK_AVG_PERSON_SIZE,
  NEXMARK_CITIES,
  NEXMARK_FIRST_AUCTION_ID,
  NEXMARK_FIRST_CATEGORY_ID,
  NEXMARK_FIRST_NAMES,
  NEXMARK_FIRST_PERSON_ID,
  NEXMARK_HOT_CHANNELS,
  NEXMARK_HOT_URLS,
  NEXMARK_LAST_NAMES,
  NEXMARK_NUM_CATEGORIES,
  NEXMARK_NUM_CHANNELS,
  NEXMARK_PROPORTION_TOTAL,
  NEXMARK_STATES,
  NUM_ACTIVE_PEOPLE,
  NUM_IN_FLIGHT_AUCTIONS,
  PERSON_ID_LEAD,
  PERSON_OVERHEAD,
} from "./vocabulary.ts";

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
