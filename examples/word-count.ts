/** Word count: the README's example. `./riffle run examples/word-count.ts` */
import { defineJob, valueState } from "riffle";

export default defineJob("word-count", (env) => {
  env
    .fromElements(["to be or not to be", "that is the question"])
    .flatMap((line) => line.split(" "))
    .keyBy((word) => word)
    .process({
      state: { count: valueState<number>() },
      processElement(word, ctx) {
        const count = (ctx.state.count.value() ?? 0) + 1;
        ctx.state.count.update(count);
        ctx.emit({ word, count });
      },
    })
    .setParallelism(2)
    .sinkTo("counts");
});
