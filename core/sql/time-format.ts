/** `DATE_FORMAT` patterns (Java `SimpleDateFormat` letters) over epoch-ms timestamps in UTC. */

const pad = (n: number, width: number) => String(n).padStart(width, "0");

const FIELDS: Record<string, (d: Date, width: number) => string> = {
  y: (d, w) => (w === 2 ? pad(d.getUTCFullYear() % 100, 2) : pad(d.getUTCFullYear(), w)),
  M: (d, w) => pad(d.getUTCMonth() + 1, w),
  d: (d, w) => pad(d.getUTCDate(), w),
  H: (d, w) => pad(d.getUTCHours(), w),
  m: (d, w) => pad(d.getUTCMinutes(), w),
  s: (d, w) => pad(d.getUTCSeconds(), w),
  S: (d, w) => pad(d.getUTCMilliseconds(), 3).slice(0, w),
};

/** The span (ms) within which each field's text stays the same: a day for a date, down to 1 ms. */
const UNITS: Record<string, number> = {
  y: 86_400_000,
  M: 86_400_000,
  d: 86_400_000,
  H: 3_600_000,
  m: 60_000,
  s: 1000,
  S: 1,
};

/** One piece of a parsed pattern: literal text, or a field letter and its width. */
type Piece = string | { readonly field: (d: Date, width: number) => string; readonly width: number };

/**
 * A parsed pattern, and the text it last gave: UTC fields change only at multiples of the
 * finest field's span (`unit`) since the epoch, so times in the same span (a day, for
 * `yyyy-MM-dd`) have the same text, made once.
 */
interface Parsed {
  readonly pieces: readonly Piece[];
  readonly unit: number;
  last: number;
  text: string;
}

/** The parsed patterns (a query names a handful; each is parsed once, not per row). */
const parsed = new Map<string, Parsed>();
const MAX_PATTERNS = 256;

function parse(pattern: string): Parsed {
  const pieces: Piece[] = [];
  let unit = Number.POSITIVE_INFINITY;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] as string;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      pieces.push(pattern.slice(i + 1, end < 0 ? pattern.length : end));
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    let j = i;
    while (pattern[j] === c) j++;
    const field = FIELDS[c];
    pieces.push(field ? { field, width: j - i } : pattern.slice(i, j));
    if (field) unit = Math.min(unit, UNITS[c] as number);
    i = j;
  }
  return { pieces, unit: Number.isFinite(unit) ? unit : 1, last: Number.NaN, text: "" };
}

/** Formats `ms` with a pattern such as `yyyy-MM-dd HH:mm:ss`; text in '…' is literal. */
export function formatTimestamp(ms: number, pattern: string): string {
  let p = parsed.get(pattern);
  if (p === undefined) {
    if (parsed.size >= MAX_PATTERNS) parsed.clear();
    p = parse(pattern);
    parsed.set(pattern, p);
  }
  const span = Math.floor(ms / p.unit);
  if (span === p.last) return p.text;
  const d = new Date(ms);
  let out = "";
  for (const x of p.pieces) out += typeof x === "string" ? x : x.field(d, x.width);
  p.last = span;
  p.text = out;
  return out;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The largest time a Date holds (ECMAScript's TimeClip). */
const MAX_TIME = 8.64e15;

/** `new Date(ms).getUTCHours()` without the Date: the hour of day (UTC) of epoch-ms `ms`, NaN out of range. */
export function utcHour(ms: number): number {
  const t = Math.trunc(ms);
  if (!(Math.abs(t) <= MAX_TIME)) return Number.NaN;
  const r = t % DAY_MS;
  return Math.floor((r < 0 ? r + DAY_MS : r) / HOUR_MS) + 0;
}
