/**
 * The chaos oracle: an exact check of the keyed counter's committed output, with
 * no slack for a lost or a duplicated record.
 *
 * The output is split into eras: a new era starts with every savepoint restore
 * (and, on AWS, every failover: a new generation). Rules, per key:
 *
 * 1. Within an era, `n` is contiguous and increasing: n, n+1, … (a repeat is a
 *    duplicate, a jump is a loss), and the n-th row carries the id of the key's
 *    n-th input.
 * 2. An era starts at c+1. For the first era c = 0. For a failover, c is exactly
 *    where the previous era ended. For a restore of savepoint X taken in era e,
 *    c lies in [lo, hi]: lo is the count committed in e when X was requested (X's
 *    checkpoint is newer), hi the count e committed in all (a restore may not
 *    skip output its savepoint's state already counted).
 * 3. A `fin` row (the key's count, asked for by an end record) equals the count.
 *    Where the end record is the key's last input (`finEnds`), it comes at most
 *    once per era and nothing of the key follows it in that era.
 * 4. At the end, every key's `fin` equals its number of inputs; a poison key may
 *    stay at 0 only while its record is a pending dead letter, or count its record
 *    (once) after a fin of 0: its dead letter was replayed after its end record.
 */

import type { ChaosRow } from "./dataset.ts";

/** A range of counts a key may be at. */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** How an era begins. */
export type EraStart = { kind: "initial" } | { kind: "restore"; savepoint: string } | { kind: "failover" };

/** One era's committed rows, in commit order. */
export interface EraInput {
  readonly label: string;
  readonly start: EraStart;
  readonly rows: readonly ChaosRow[];
}

/** A savepoint as the driver saw it. */
export interface SavepointSeen {
  /** Index of the era it was taken in. */
  readonly era: number;
  /** Per key, the count the era had committed when it was requested (keys seen in the era only). */
  readonly atRequest: ReadonlyMap<string, number>;
}

/** What the oracle knows of the input. */
export interface OracleInput {
  /** Per key, the ids of its counted inputs in order. */
  readonly expected: ReadonlyMap<string, readonly number[]>;
  readonly eras: readonly EraInput[];
  readonly savepoints: ReadonlyMap<string, SavepointSeen>;
  /** A `fin` row ends its key's input (the generator's end records), rather than a probe. */
  readonly finEnds: boolean;
}

/** The state of one era after checking it. */
export interface EraResult {
  /** Counts of keys seen in the era, at its end. */
  readonly counts: Map<string, number>;
  /** The highest count of keys seen in the era (above `counts` only after a duplicate). */
  readonly highest: Map<string, number>;
  /** Last `fin` of keys seen in the era. */
  readonly fins: Map<string, number>;
  /** Where a key not seen in the era stands. */
  readonly allowed: (key: string) => Interval;
}

/** The verdict on a whole output. */
export interface Verdict {
  readonly violations: string[];
  readonly results: EraResult[];
}

/** Messages reported per key and per era; the rest are counted. */
const MAX_PER_KEY = 2;
const MAX_PER_ERA = 8;

/** Checks rules 1-3 over every era. */
export function checkEras(input: OracleInput): Verdict {
  const violations: string[] = [];
  const results: EraResult[] = [];
  input.eras.forEach((era, e) => {
    const allowed = allowedAt(input, results, e, violations);
    results.push(checkEra(input, era, allowed, violations));
  });
  return { violations, results };
}

/** Where a key stands at the end of era `e`. */
export function finalCount(r: EraResult, key: string): Interval {
  const n = r.counts.get(key);
  return n === undefined ? r.allowed(key) : { lo: n, hi: n };
}

function allowedAt(input: OracleInput, results: EraResult[], e: number, violations: string[]) {
  const era = input.eras[e] as EraInput;
  if (era.start.kind === "initial") return () => ({ lo: 0, hi: 0 });
  const prev = results[e - 1];
  if (era.start.kind === "failover") return prev ? (k: string) => finalCount(prev, k) : () => ({ lo: 0, hi: 0 });
  const name = era.start.savepoint;
  const sp = input.savepoints.get(name);
  const src = sp ? results[sp.era] : undefined;
  if (!sp || !src) {
    violations.push(`${era.label}: restored savepoint '${name}' that the driver never saw taken in an earlier era`);
    return () => ({ lo: 0, hi: Number.MAX_SAFE_INTEGER });
  }
  return (k: string) => ({
    lo: sp.atRequest.get(k) ?? src.allowed(k).lo,
    hi: src.highest.get(k) ?? src.allowed(k).hi,
  });
}

interface KeyState {
  count: number;
  highest: number;
  /** The last fin row's value. */
  fin: number | undefined;
  fins: number;
  bad: number;
}

function checkEra(input: OracleInput, era: EraInput, allowed: (k: string) => Interval, all: string[]): EraResult {
  const keys = new Map<string, KeyState>();
  const out: string[] = [];
  for (const row of era.rows) {
    const ids = input.expected.get(row.key);
    const at = `${era.label}: key ${row.key}`;
    let s = keys.get(row.key);
    const say = (msg: string) => {
      if (s && s.bad++ >= MAX_PER_KEY) return;
      out.push(`${at}: ${msg}`);
    };
    if (!ids) {
      say(`unknown key in row ${JSON.stringify(row)}`);
      continue;
    }
    const value = row.n ?? row.fin;
    if (value === undefined || !Number.isSafeInteger(value)) {
      say(`malformed row ${JSON.stringify(row)}`);
      continue;
    }
    const before = s?.count;
    if (!s) {
      const a = allowed(row.key);
      const c = row.n !== undefined ? row.n - 1 : value;
      s = { count: c, highest: c, fin: undefined, fins: 0, bad: 0 };
      keys.set(row.key, s);
      if (c < a.lo) say(`starts at count ${c} but must start in [${a.lo}, ${a.hi}]: duplicates`);
      else if (c > a.hi) say(`starts at count ${c} but must start in [${a.lo}, ${a.hi}]: committed output lost`);
    }
    // A replayed dead letter may come after its key's end (a poison key has nothing else).
    if (input.finEnds && s.fins > 0 && !(row.n !== undefined && isPoison(row.key, ids)))
      say(`row ${JSON.stringify(row)} after its fin`);
    if (row.n !== undefined) {
      if (before !== undefined && row.n !== before + 1)
        say(`n ${row.n} follows ${before}: ${row.n <= before ? "duplicate" : "loss"}`);
      if (ids[row.n - 1] !== row.id) say(`row n=${row.n} has id ${row.id}, expected ${ids[row.n - 1] ?? "none"}`);
      s.count = row.n;
      s.highest = Math.max(s.highest, row.n);
    } else {
      if (value !== s.count) say(`fin ${value} but its count is ${s.count}`);
      s.fin = value;
      if (++s.fins > 1 && input.finEnds) say(`fin repeated ${s.fins} times: duplicate`);
    }
  }
  all.push(...out.slice(0, MAX_PER_ERA));
  if (out.length > MAX_PER_ERA) all.push(`${era.label}: … and ${out.length - MAX_PER_ERA} more violations`);
  const counts = new Map([...keys].map(([k, s]) => [k, s.count]));
  const highest = new Map([...keys].map(([k, s]) => [k, s.highest]));
  const fins = new Map([...keys].flatMap(([k, s]) => (s.fin === undefined ? [] : [[k, s.fin] as const])));
  return { counts, highest, fins, allowed };
}

/**
 * Rule 4 on a finished output: every key's final `fin` (from the last era, or
 * from the era whose savepoint it inherited the key from) equals its input count.
 * `pending` holds the ids of poison records listed as dead letters not yet
 * replayed. Returns the violations and how many poison keys stayed pending.
 */
export function checkFinal(
  input: OracleInput,
  verdict: Verdict,
  pending: ReadonlySet<number>,
): { violations: string[]; pendingKeys: number } {
  const violations: string[] = [];
  let pendingKeys = 0;
  for (const [key, ids] of input.expected) {
    const { fin, count } = lastOf(input, verdict, input.eras.length - 1, key);
    if (fin === ids.length) continue;
    const poison = isPoison(key, ids);
    // Its dead letter replayed after its end record: counted once, after a fin of 0.
    if (poison && count === ids.length && (fin === 0 || fin === undefined)) continue;
    if (poison && (fin === 0 || fin === undefined) && pending.has(ids[0] as number)) {
      pendingKeys++;
      continue;
    }
    violations.push(
      `final: key ${key} ends at ${fin === undefined ? "no fin" : `fin ${fin}`}, expected ${ids.length}` +
        (poison ? " (its poison record is neither committed nor a pending dead letter: lost)" : ""),
    );
  }
  return { violations, pendingKeys };
}

/** A poison key: one record, under a key of its own. */
const isPoison = (key: string, ids: readonly number[]) => key.startsWith("x") && ids.length === 1;

/** The last fin and count of `key`, from the last era that saw it (following failovers and restores back). */
function lastOf(input: OracleInput, verdict: Verdict, e: number, key: string): { fin?: number; count?: number } {
  const r = verdict.results[e];
  const era = input.eras[e];
  if (!r || !era) return {};
  const count = r.counts.get(key);
  if (count !== undefined) {
    const fin = r.fins.get(key);
    return fin === undefined ? { count } : { fin, count };
  }
  if (era.start.kind === "failover") return lastOf(input, verdict, e - 1, key);
  if (era.start.kind === "restore") {
    const sp = input.savepoints.get(era.start.savepoint);
    return sp && sp.era < e ? lastOf(input, verdict, sp.era, key) : {};
  }
  return {};
}

/** Per key, the last count among `rows` (for a savepoint's `atRequest`). */
export function lastCounts(rows: readonly ChaosRow[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) {
    const v = r.n ?? r.fin;
    if (v !== undefined) m.set(r.key, v);
  }
  return m;
}
