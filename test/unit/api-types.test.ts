/**
 * Type tests: `tsc -p .` (part of `npm test`) checks them; the `@ts-expect-error`
 * lines fail the typecheck if the API stops refusing what they do.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { DataStream, KeyedStream } from "../../core/api/datastream.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { planJob } from "../../core/graph/planner.ts";

type Row = { word: string; count: number };

describe("DataStream types", () => {
  it("process takes its output type explicitly and keeps the state's types; uid/name/setParallelism keep it", () => {
    const job = defineJob("types", (env) => {
      const words = env.fromElements(["a", "b", "a"]);
      expectTypeOf(words).toEqualTypeOf<DataStream<string>>();
      const keyed = words.keyBy((w) => w);
      expectTypeOf(keyed).toEqualTypeOf<KeyedStream<string, string>>();
      const state = { count: valueState<number>() };
      const counts = keyed
        .process<Row, typeof state>({
          state,
          processElement(word, ctx) {
            expectTypeOf(word).toEqualTypeOf<string>();
            expectTypeOf(ctx.key).toEqualTypeOf<string>();
            const n = ctx.state.count.value();
            expectTypeOf(n).toEqualTypeOf<number | undefined>();
            // @ts-expect-error the state holds numbers
            ctx.state.count.update("one");
            // @ts-expect-error no such state
            ctx.state.missing;
            // @ts-expect-error emit is checked against Row
            ctx.emit({ word });
            ctx.emit({ word, count: (n ?? 0) + 1 });
          },
        })
        .uid("count")
        .name("count words")
        .setParallelism(2);
      expectTypeOf(counts).toEqualTypeOf<DataStream<Row>>();
      expectTypeOf(counts.map((r) => r.count)).toEqualTypeOf<DataStream<number>>();
      counts.sinkTo("counts");
    });
    planJob(buildGraph(job));
  });

  it("process infers its output from the variable's annotation, and state from `state`", () => {
    defineJob("inferred", (env) => {
      const out: DataStream<Row> = env
        .fromElements(["x"])
        .keyBy((w) => w)
        .process({
          state: { seen: valueState<boolean>() },
          processElement(word, ctx) {
            expectTypeOf(ctx.state.seen.value()).toEqualTypeOf<boolean | undefined>();
            ctx.emit({ word, count: 1 });
          },
        });
      expectTypeOf(out.uid("inferred").setParallelism(1)).toEqualTypeOf<DataStream<Row>>();
      out.sinkTo("out");
    });
  });

  it("the rich state codec is a descriptor option", () => {
    const m = valueState<Map<string, bigint>>({ codec: "rich" });
    expectTypeOf(m.codec).toEqualTypeOf<"json" | "rich" | undefined>();
    // @ts-expect-error only json or rich
    valueState<number>({ codec: "yaml" });
  });
});
