/**
 * A generated dataset for the sensitive-data classifier: labelled values of each
 * kind in the shapes people write them (card numbers of five issuers with and
 * without separators, e-mails, phones in E.164 and North American formats, SSNs,
 * IBANs of several countries), and look-alikes that are not sensitive: order ids and
 * tracking numbers of card length, timestamps, amounts, dates, UUIDs, IPs, zip codes,
 * versions, names and free text.
 */
import type { SensitiveKind } from "../../core/governance/sensitive.ts";
import { seededRandom } from "../../core/ml/random.ts";

/** One labelled value: its kind, or undefined for a value that is not sensitive. */
export interface Labelled {
  readonly value: string;
  readonly kind: SensitiveKind | undefined;
}

type Rng = () => number;

const digits = (r: Rng, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join("");
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function card(r: Rng): string {
  const [prefix, length] = pick(r, [
    ["4", 16],
    ["4", 13],
    ["51", 16],
    ["55", 16],
    ["2221", 16],
    ["34", 15],
    ["37", 15],
    ["6011", 16],
    ["65", 16],
    ["3530", 16],
  ] as const);
  const body = prefix + digits(r, length - prefix.length - 1);
  const n = body + luhnDigit(body);
  const style = r();
  if (style < 0.4) return n;
  const sep = style < 0.7 ? " " : "-";
  return length === 15
    ? `${n.slice(0, 4)}${sep}${n.slice(4, 10)}${sep}${n.slice(10)}`
    : (n.match(/.{1,4}/g)?.join(sep) ?? n);
}

function email(r: Rng): string {
  const user = pick(r, ["ada", "bob.smith", "c_lee", "dee+news", "e.v.ans", "f123"]) + digits(r, 2);
  return `${user}@${pick(r, ["example.com", "mail.co.uk", "corp.example.org", "bank.de"])}`;
}

function phone(r: Rng): string {
  const area = `${2 + Math.floor(r() * 8)}${digits(r, 2)}`;
  const exchange = `${2 + Math.floor(r() * 8)}${digits(r, 2)}`;
  const line = digits(r, 4);
  return pick(r, [
    `(${area}) ${exchange}-${line}`,
    `${area}-${exchange}-${line}`,
    `${area}.${exchange}.${line}`,
    `+1 ${area} ${exchange} ${line}`,
    `+44 20 ${digits(r, 4)} ${digits(r, 4)}`,
    `+49 30 ${digits(r, 8)}`,
    `+33${digits(r, 9)}`,
  ]);
}

function ssn(r: Rng): string {
  const area = String(1 + Math.floor(r() * 665)).padStart(3, "0");
  return `${area}-${String(1 + Math.floor(r() * 98)).padStart(2, "0")}-${String(1 + Math.floor(r() * 9998)).padStart(4, "0")}`;
}

function iban(r: Rng): string {
  const [country, length] = pick(r, [
    ["DE", 22],
    ["GB", 22],
    ["FR", 27],
    ["NL", 18],
    ["ES", 24],
  ] as const);
  const bban = country === "GB" || country === "NL" ? `ABNA${digits(r, length - 8)}` : digits(r, length - 4);
  const numeric = [...`${bban}${country}00`].map((c) => (c >= "A" ? String(c.charCodeAt(0) - 55) : c)).join("");
  let rest = 0;
  for (const c of numeric) rest = (rest * 10 + Number(c)) % 97;
  const check = String(98 - rest).padStart(2, "0");
  const raw = `${country}${check}${bban}`;
  return r() < 0.5 ? raw : (raw.match(/.{1,4}/g)?.join(" ") ?? raw);
}

function lookAlike(r: Rng): string {
  return pick(r, [
    () => `ORD-${digits(r, 8)}`,
    () => digits(r, 16), // an order id of card length
    () => `1Z${digits(r, 16)}`, // a tracking number
    () => String(1_700_000_000_000 + Math.floor(r() * 1e11)), // epoch ms
    () => (r() * 10_000).toFixed(2),
    () =>
      `2026-${String(1 + Math.floor(r() * 12)).padStart(2, "0")}-${String(1 + Math.floor(r() * 28)).padStart(2, "0")}`,
    () =>
      [8, 4, 4, 4, 12]
        .map((n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(r() * 16)]).join(""))
        .join("-"),
    () => `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
    () => digits(r, 5),
    () => `v${Math.floor(r() * 10)}.${Math.floor(r() * 20)}.${Math.floor(r() * 50)}`,
    () => pick(r, ["Ada Lovelace", "Grace Hopper", "north", "premium customer", "see ticket #4411"]),
    () => `${digits(r, 3)}-${digits(r, 3)}`,
  ])();
}

/** `n` labelled values from `seed`: about half sensitive, spread over the kinds. */
export function sensitiveDataset(seed: number, n: number): Labelled[] {
  const r = seededRandom(seed);
  const makers: [SensitiveKind | undefined, (r: Rng) => string][] = [
    ["card", card],
    ["email", email],
    ["phone", phone],
    ["national-id", ssn],
    ["iban", iban],
    [undefined, lookAlike],
    [undefined, lookAlike],
    [undefined, lookAlike],
    [undefined, lookAlike],
    [undefined, lookAlike],
  ];
  return Array.from({ length: n }, () => {
    const [kind, make] = pick(r, makers);
    return { value: make(r), kind };
  });
}
