/** The small ingest job the aws part's idle and active-coordinator runs share. */

import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";

/** An ingest job named `name` (one partition → keyed counter → sink, 2 tasks), a checkpoint every second. */
export function counterIngestJob(name: string): Job {
  return defineJob(name, (env) => {
    env.enableCheckpointing(1000);
    env
      .fromIngest<{ k: string }>("events", { partitions: 1 })
      .keyBy((e) => e.k)
      .process({
        state: { n: valueState<number>() },
        processElement(e, ctx) {
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.emit({ k: e.k, n });
        },
      })
      .sinkTo("result");
  });
}
