/**
 * Joins, built from the primitives: a window join is a keyed window over both
 * inputs; an interval join is a keyed co-process function that buffers each side
 * in keyed state until the watermark passes its interval. An interval join, like
 * an event-time window join, needs event times: the plan refuses it when a path
 * from a source to it has no timestamps.
 */

import { JobDefinitionError } from "../errors.ts";
import type { Key } from "../keys.ts";
import type { DataStream, KeyedStream } from "./datastream.ts";
import type { KeyedContext, KeySelector } from "./functions.ts";
import { mapState } from "./state.ts";
import type { TimeWindow, WindowAssigner } from "./windows.ts";

type Tagged<A, B> = { readonly s: 0; readonly v: A } | { readonly s: 1; readonly v: B };

/**
 * `join(a, b).where(ka).equalTo(kb).window(assigner).apply((x, y) => out)`: every
 * pair of records with equal keys in the same window, emitted when the window fires.
 */
export function join<A, B>(a: DataStream<A>, b: DataStream<B>) {
  return {
    where<K extends Key>(keyA: KeySelector<A, K>) {
      return {
        equalTo(keyB: KeySelector<B, K>) {
          return {
            window(assigner: WindowAssigner) {
              return {
                apply<O>(fn: (x: A, y: B, key: K, window: TimeWindow) => O): DataStream<O> {
                  const left = a.map((v): Tagged<A, B> => ({ s: 0, v }));
                  const right = b.map((v): Tagged<A, B> => ({ s: 1, v }));
                  return left
                    .union(right)
                    .keyBy((t) => (t.s === 0 ? keyA(t.v) : keyB(t.v)))
                    .window(assigner)
                    .process<O>((key, window, elements, out) => {
                      const xs = elements.filter((t) => t.s === 0);
                      const ys = elements.filter((t) => t.s === 1);
                      for (const x of xs) for (const y of ys) out(fn(x.v as A, y.v as B, key as K, window));
                    });
                },
              };
            },
          };
        },
      };
    },
  };
}

/** Context of an interval-join result. */
export interface IntervalJoinContext<K extends Key> {
  readonly key: K;
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
}

/**
 * `intervalJoin(a.keyBy(k), b.keyBy(k)).between(lower, upper).process(fn)`: pairs
 * (x, y) with equal keys and `x.time + lower <= y.time <= x.time + upper` (bounds
 * inclusive), as Flink's interval join. Needs event times on both inputs.
 */
export function intervalJoin<A, B, K extends Key>(a: KeyedStream<A, K>, b: KeyedStream<B, K>) {
  return {
    between(lower: number, upper: number) {
      if (!(lower <= upper))
        throw new JobDefinitionError(`interval join: lower bound ${lower} is above upper bound ${upper}`);
      return {
        process<O>(fn: (x: A, y: B, ctx: IntervalJoinContext<K>) => O | undefined): DataStream<O> {
          const state = { left: mapState<unknown[]>(), right: mapState<unknown[]>() };
          const keyA = a.keySelector;
          const keyB = b.keySelector;
          const emit = (ctx: KeyedContext<K, typeof state, O>, x: A, y: B, tx: number, ty: number) => {
            const out = fn(x, y, { key: ctx.key, leftTimestamp: tx, rightTimestamp: ty });
            if (out !== undefined) {
              const m = ctx as { timestamp: number | undefined };
              const saved = m.timestamp;
              m.timestamp = Math.max(tx, ty);
              ctx.emit(out);
              m.timestamp = saved;
            }
          };
          const stamp = (ctx: KeyedContext<K, typeof state, O>) => {
            if (ctx.timestamp === undefined) throw new TypeError("interval join needs event times on both inputs");
            return ctx.timestamp;
          };
          const late = (ctx: KeyedContext<K, typeof state, O>, t: number) => t <= ctx.timers.currentWatermark();
          const joined = a
            .connect(b.asStream())
            .keyBy(keyA, keyB)
            .process<O, typeof state>({
              state,
              processElement1(x, ctx) {
                const tx = stamp(ctx);
                if (late(ctx, tx + upper)) return; // every partner it could have is already gone
                for (const [t, ys] of ctx.state.right.entries()) {
                  const ty = Number(t);
                  if (ty >= tx + lower && ty <= tx + upper) for (const y of ys) emit(ctx, x, y as B, tx, ty);
                }
                ctx.state.left.put(String(tx), [...(ctx.state.left.get(String(tx)) ?? []), x]);
                ctx.timers.registerEventTimeTimer(tx + Math.max(upper, 0));
              },
              processElement2(y, ctx) {
                const ty = stamp(ctx);
                if (late(ctx, ty - lower)) return;
                for (const [t, xs] of ctx.state.left.entries()) {
                  const tx = Number(t);
                  if (ty >= tx + lower && ty <= tx + upper) for (const x of xs) emit(ctx, x as A, y, tx, ty);
                }
                ctx.state.right.put(String(ty), [...(ctx.state.right.get(String(ty)) ?? []), y]);
                ctx.timers.registerEventTimeTimer(ty - Math.min(lower, 0));
              },
              onTimer(t, ctx) {
                // Drop buffered records that can no longer find a partner.
                for (const [k] of ctx.state.left.entries())
                  if (Number(k) + Math.max(upper, 0) <= t) ctx.state.left.remove(k);
                for (const [k] of ctx.state.right.entries())
                  if (Number(k) - Math.min(lower, 0) <= t) ctx.state.right.remove(k);
              },
            });
          for (const e of joined.edges) joined.builder.requireEventTime(e.node);
          return joined;
        },
      };
    },
  };
}
