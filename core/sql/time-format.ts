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

/** Formats `ms` with a pattern such as `yyyy-MM-dd HH:mm:ss`; text in '…' is literal. */
export function formatTimestamp(ms: number, pattern: string): string {
  const d = new Date(ms);
  let out = "";
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] as string;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      out += pattern.slice(i + 1, end < 0 ? pattern.length : end);
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    let j = i;
    while (pattern[j] === c) j++;
    const field = FIELDS[c];
    out += field ? field(d, j - i) : pattern.slice(i, j);
    i = j;
  }
  return out;
}
