/** Postgres WAL positions (`X/Y`, two 32-bit hex halves) as comparable numbers. */

/** The LSN `text` as a bigint. */
export function lsnValue(text: string): bigint {
  const [hi, lo] = text.split("/");
  if (hi === undefined || lo === undefined || !/^[0-9A-Fa-f]+$/.test(hi) || !/^[0-9A-Fa-f]+$/.test(lo))
    throw new RangeError(`not an LSN: '${text}'`);
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** A bigint LSN as `X/Y` text. */
export function lsnText(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareLsn(a: string, b: string): number {
  const x = lsnValue(a);
  const y = lsnValue(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The later of two LSNs. */
export function maxLsn(a: string, b: string): string {
  return compareLsn(a, b) >= 0 ? a : b;
}
