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
  private readonly held = new Map<string, Bundled>();
  /** Per input edge: what takes its records' bundles, `undefined` for an input handled record by record. */
  private readonly bundlers: readonly (Bundler | undefined)[];
  /** What takes the held records (all of one input). */
  private bundler: Bundler | undefined;

  private constructor(bundlers: readonly (Bundler | undefined)[]) {
    this.bundlers = bundlers;
  }

  /** The bundles of `op` over inputs on `sides`; undefined when it takes every input record by record. */
  static of(op: KeyedOp, sides: readonly (0 | 1)[]): KeyBundles | undefined {
    const bundlers = [bundlerOf(op, 0), bundlerOf(op, 1)] as const;
    const perInput = sides.map((side) => bundlers[side]);
    return perInput.some((b) => b !== undefined) ? new KeyBundles(perInput) : undefined;
  }

  /** True when records of `input` are held. */
  takes(input: number): boolean {
    return this.bundlers[input] !== undefined;
  }

  /**
   * Holds `value` of `input` with its key's records; `handOver` first when the held records
   * are another input's.
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
    const bundler = this.bundlers[input];
    if (this.bundler !== bundler) handOver();
    this.bundler = bundler;
    const b = this.held.get(enc);
    if (b) {
      b.values.push(value);
      b.time = time;
    } else this.held.set(enc, { key, group, values: [value], time });
  }

  /** Hands each key's held records to `take` (with the bundler of their input), then forgets them. */
  handOver(take: (enc: string, b: Bundled, bundler: Bundler) => void): void {
    const held = this.held;
    if (held.size === 0) return;
    const bundler = this.bundler as Bundler;
    try {
      for (const [enc, b] of held) take(enc, b, bundler);
    } finally {
      held.clear();
    }
  }
}
