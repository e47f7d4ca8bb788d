/**
 * The Nexmark model's constants and vocabularies (rules in NEXMARK.md): proportions,
 * first ids, hot-value ratios, event sizes, names, cities, states and channels. The
 * generator (`generator.ts`) draws from these.
 */

/** Events per block: 1 person, 3 auctions, 46 bids. */
export const NEXMARK_PROPORTION_TOTAL = 50;
export const AUCTION_PROPORTION = 3;
/** Id of the first person and of the first auction. */
export const NEXMARK_FIRST_PERSON_ID = 1000;
export const NEXMARK_FIRST_AUCTION_ID = 1000;
/** Categories are 10 … 14. */
export const NEXMARK_FIRST_CATEGORY_ID = 10;
export const NEXMARK_NUM_CATEGORIES = 5;
export const NUM_ACTIVE_PEOPLE = 1000;
export const PERSON_ID_LEAD = 10;
export const NUM_IN_FLIGHT_AUCTIONS = 100;
export const AUCTION_ID_LEAD = 10;
/** Hot values are multiples of this (plus 1 for the hot bidder). */
export const HOT_ROUNDING = 100;
/** Probabilities: hot seller 3/4 (coin [0,4) > 0), hot auction 1/2 ([0,2) > 0), hot bidder 3/4 ([0,4) > 0). */
export const HOT_SELLERS_RATIO = 4;
export const HOT_AUCTIONS_RATIO = 2;
export const HOT_BIDDERS_RATIO = 4;
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

export const LETTERS: readonly string[] = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
export const FULL_NAMES: readonly string[] = NEXMARK_FIRST_NAMES.flatMap((f) =>
  NEXMARK_LAST_NAMES.map((l) => `${f} ${l}`),
);
export const DIGITS4: readonly string[] = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"));
export const CHANNELS: readonly string[] = Array.from({ length: NEXMARK_NUM_CHANNELS }, (_, i) =>
  nexmarkChannelName(i),
);
export const CHANNEL_URLS: readonly string[] = Array.from({ length: NEXMARK_NUM_CHANNELS }, (_, i) =>
  nexmarkChannelUrl(i),
);

/**
 * Constant part of each kind's JSON length: `JSON.stringify` of the event without
 * `extra`, with every number 0 (1 char) and every string empty.
 */
export const PERSON_OVERHEAD =
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
export const AUCTION_OVERHEAD =
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
export const BID_OVERHEAD =
  JSON.stringify({ type: "bid", auction: 0, bidder: 0, price: 0, channel: "", url: "", dateTime: 0 }).length - 4;
