/**
 * A keyed operator's mini-batches (Flink's `MapBundleFunction`): for a function that defines
 * `processBundle` (or `processBundle1`/`processBundle2`), the records of one slice held by key,
 * handed over one key at a time, keys in order of first arrival. A bundle holds one input's
 * records only: a record of another input hands the held ones over first.
 */

import type { KeyedContext } from "../api/functions.ts";
import type { StateSpec } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { KeyedOp } from "./keyed-context.ts";

/** One key's held records. */
export interface Bundled {
  readonly key: Key;
  readonly group: number;
  readonly values: unknown[];
  time: number | undefined;
}

/** Takes one key's held records of one input (`processBundle`, `processBundle1` or `processBundle2`). */
export type Bundler = (values: readonly unknown[], ctx: KeyedContext<Key, StateSpec, unknown>) => void;

/** What takes the bundles of an input on `side` of `op`; undefined when the function takes that input record by record. */
function bundlerOf(op: KeyedOp, side: 0 | 1): Bundler | undefined {
  if (op.kind === "process") {
    const fn = op.fn;
    return fn.processBundle ? (vs, ctx) => fn.processBundle?.(vs, ctx) : undefined;
  }
  if (op.kind !== "coProcess") return undefined;
  const fn = op.fn;
  if (side === 0) return fn.processBundle1 ? (vs, ctx) => fn.processBundle1?.(vs, ctx) : undefined;
  return fn.processBundle2 ? (vs, ctx) => fn.processBundle2?.(vs, ctx) : undefined;
}

/** The held records of a keyed operator whose function takes bundles on some input. */
export class KeyBundles {
  /** Held records by key, per bundler (one input's, or one side's): handed over in this map's order. */
  private readonly held = new Map<Bundler, Map<string, Bundled>>();
  /** Per input edge: what takes its records' bundles, `undefined` for an input handled record by record. */
  private readonly bundlers: readonly (Bundler | undefined)[];
  /** Whether both sides' records are held at once (the function says which goes first), not one input's. */
  private readonly ordered: boolean;
  /** What takes the held records when they are one input's. */
  private bundler: Bundler | undefined;

  private constructor(bundlers: readonly (Bundler | undefined)[], first: readonly Bundler[] | undefined) {
    this.bundlers = bundlers;
    this.ordered = first !== undefined;
    for (const b of first ?? []) this.held.set(b, new Map());
  }

  /** The bundles of `op` over inputs on `sides`; undefined when it takes every input record by record. */
  static of(op: KeyedOp, sides: readonly (0 | 1)[]): KeyBundles | undefined {
    const bundlers = [bundlerOf(op, 0), bundlerOf(op, 1)] as const;
    const perInput = sides.map((side) => bundlers[side]);
    if (!perInput.some((b) => b !== undefined)) return undefined;
    // A two-input function that takes bundles on both and names the one to hand over first.
    const first = op.kind === "coProcess" ? op.fn.bundleFirst : undefined;
    const [a, b] = bundlers;
    const order = first === undefined || !a || !b ? undefined : first === 1 ? [a, b] : [b, a];
    return new KeyBundles(perInput, order);
  }

  /** True when records of `input` are held. */
  takes(input: number): boolean {
    return this.bundlers[input] !== undefined;
  }

  /**
   * Holds `value` of `input` with its key's records; `handOver` first when the held records
   * are another input's (unless both sides are held at once).
   */
  hold(
    input: number,
    key: Key,
    enc: string,
    group: number,
    value: unknown,
    time: number | undefined,
    handOver: () => void,
  ): void {
    const bundler = this.bundlers[input] as Bundler;
    if (!this.ordered && this.bundler !== bundler) {
      handOver();
      this.bundler = bundler;
    }
    let byKey = this.held.get(bundler);
    if (!byKey) {
      byKey = new Map();
      this.held.set(bundler, byKey);
    }
    const b = byKey.get(enc);
    if (b) {
      b.values.push(value);
      b.time = time;
    } else byKey.set(enc, { key, group, values: [value], time });
  }

  /** Hands each key's held records to `take` (with the bundler of their input), then forgets them (all, even when `take` throws). */
  handOver(take: (enc: string, b: Bundled, bundler: Bundler) => void): void {
    try {
      for (const [bundler, byKey] of this.held) for (const [enc, b] of byKey) take(enc, b, bundler);
    } finally {
      for (const byKey of this.held.values()) byKey.clear();
    }
  }
}
