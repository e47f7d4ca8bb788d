/**
 * Finds sensitive values by rule, for the streaming warehouse's governed access
 * (issue 16): payment card numbers (a known issuer prefix, a valid length and the
 * Luhn check digit), e-mail addresses, phone numbers (E.164, or the North American
 * plan's formats), US social security numbers (the valid area, group and serial
 * ranges) and IBANs (the ISO 13616 length of the country and the mod-97 check). A
 * column is classified as the kind most of its sampled values have.
 */

/** The kinds of sensitive value the rules find. */
export type SensitiveKind = "card" | "email" | "phone" | "national-id" | "iban";

/** Where the digits of a card number or phone may be split. */
const SEPARATORS = /[\s.-]/g;

/** True when the digit string passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card issuers: a prefix test and the lengths their numbers have. */
const ISSUERS: readonly { prefix: RegExp; lengths: readonly number[] }[] = [
  { prefix: /^4/, lengths: [13, 16, 19] }, // Visa
  { prefix: /^(5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/, lengths: [16] }, // Mastercard
  { prefix: /^3[47]/, lengths: [15] }, // American Express
  { prefix: /^(6011|65|64[4-9])/, lengths: [16, 19] }, // Discover
  { prefix: /^35(2[89]|[3-8]\d)/, lengths: [16, 19] }, // JCB
];

function isCard(s: string): boolean {
  if (!/^\d[\d\s.-]{11,22}\d$/.test(s)) return false;
  const digits = s.replace(SEPARATORS, "");
  if (!/^\d+$/.test(digits)) return false;
  const issuer = ISSUERS.find((i) => i.prefix.test(digits));
  return issuer?.lengths.includes(digits.length) === true && luhnValid(digits);
}

const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

function isEmail(s: string): boolean {
  return s.length <= 254 && EMAIL.test(s) && !s.includes("..");
}

/** E.164 (`+` and 8-15 digits, spaces or dashes allowed) or NANP: (212) 555-0123, 212-555-0123, 212.555.0123. */
function isPhone(s: string): boolean {
  if (/^\+[1-9][\d\s-]{6,18}\d$/.test(s)) {
    const n = s.replace(SEPARATORS, "").length - 1;
    return n >= 8 && n <= 15;
  }
  return /^(\+?1[\s.-]?)?(\([2-9]\d{2}\)\s?|[2-9]\d{2}[\s.-])[2-9]\d{2}[\s.-]\d{4}$/.test(s);
}

/** A US SSN written AAA-GG-SSSS: area not 000, 666 or 9xx, group not 00, serial not 0000. */
function isNationalId(s: string): boolean {
  const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(s);
  if (!m) return false;
  const [area, group, serial] = [m[1] as string, m[2] as string, m[3] as string];
  return area !== "000" && area !== "666" && area[0] !== "9" && group !== "00" && serial !== "0000";
}

/** IBAN lengths by country (ISO 13616 registry, the common ones). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AT: 20,
  BE: 16,
  CH: 21,
  CZ: 24,
  DE: 22,
  DK: 18,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GR: 27,
  HU: 28,
  IE: 22,
  IT: 27,
  LU: 20,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  SE: 24,
  SI: 19,
  SK: 24,
};

function isIban(s: string): boolean {
  const iban = s.replace(/\s/g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) || IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const c of moved) {
    const v = c >= "A" ? c.charCodeAt(0) - 55 : c.charCodeAt(0) - 48;
    rest = (v > 9 ? rest * 100 + v : rest * 10 + v) % 97;
  }
  return rest === 1;
}

/** The rules, most specific first: a card number is not also taken for a phone. */
const RULES: readonly [SensitiveKind, (s: string) => boolean][] = [
  ["card", isCard],
  ["iban", isIban],
  ["national-id", isNationalId],
  ["email", isEmail],
  ["phone", isPhone],
];

/** The kind of sensitive value `value` is, or undefined. Numbers are read as their digits. */
export function classifyValue(value: unknown): SensitiveKind | undefined {
  const s = typeof value === "string" ? value.trim() : typeof value === "number" ? String(value) : undefined;
  if (s === undefined || s.length < 5 || s.length > 64) return undefined;
  return RULES.find(([, test]) => test(s))?.[0];
}

/** A column's classification: the kind and the share of its non-empty values that have it. */
export interface ColumnClass {
  readonly kind: SensitiveKind;
  readonly share: number;
}

/**
 * Classifies a column from a sample of its values: the most frequent kind, when at
 * least `threshold` (default 0.8) of the non-empty values have it.
 */
export function classifyColumn(values: Iterable<unknown>, threshold = 0.8): ColumnClass | undefined {
  const counts = new Map<SensitiveKind, number>();
  let n = 0;
  for (const v of values) {
    if (v === null || v === undefined || v === "") continue;
    n++;
    const kind = classifyValue(v);
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (best === undefined || n === 0 || best[1] / n < threshold) return undefined;
  return { kind: best[0], share: best[1] / n };
}
