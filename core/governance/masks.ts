/**
 * Masking functions of governed access, as SQL knows them (`MASK_CARD`, `MASK_EMAIL`,
 * `MASK_PHONE`, `MASK`; core/sql/functions.ts registers them). Each hides what
 * identifies and keeps only what a support desk needs to tell values apart: a card's
 * last four digits, an e-mail's first character and domain, a phone's last two
 * digits. A masked value is never the original unless the original had nothing to hide.
 */
import type { SensitiveKind } from "./sensitive.ts";

/** What `MASK` gives for any text: a constant, so not even the length shows. */
export const MASKED_TEXT = "****";

/** Every digit but the last `keep` becomes `*`; separators stay. */
function maskDigits(s: string, keep: number): string {
  const total = s.replace(/\D/g, "").length;
  let seen = 0;
  return s.replace(/\d/g, (d) => (++seen > total - keep ? d : "*"));
}

/** `4111 1111 1111 1111` → `**** **** **** 1111`. */
export function maskCard(s: string): string {
  return maskDigits(s, 4);
}

/** `ada@example.com` → `a***@example.com`; text without `@` is masked whole. */
export function maskEmail(s: string): string {
  const at = s.lastIndexOf("@");
  if (at <= 0) return MASKED_TEXT;
  return `${s[0]}***${s.slice(at)}`;
}

/** `+44 20 7946 0958` → `+** ** **** **58`. */
export function maskPhone(s: string): string {
  return maskDigits(s, 2);
}

/** The SQL masking function for a kind of sensitive column (its column type is VARCHAR). */
export function maskFunctionFor(kind: SensitiveKind): "MASK_CARD" | "MASK_EMAIL" | "MASK_PHONE" | "MASK" {
  if (kind === "card") return "MASK_CARD";
  if (kind === "email") return "MASK_EMAIL";
  if (kind === "phone") return "MASK_PHONE";
  return "MASK";
}
