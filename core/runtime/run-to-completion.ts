/** Runs a bounded job in memory and collects its committed output (tests, examples). */

import type { Job } from "../api/environment.ts";
import { EmbeddedRuntime } from "./embedded.ts";
import type { EmbeddedOptions } from "./embedded-options.ts";

/** Runs a bounded job to completion in memory and returns each sink's committed records. */
export async function runToCompletion(job: Job, options: EmbeddedOptions = {}): Promise<Map<string, unknown[]>> {
  const out = new Map<string, unknown[]>();
  const onOutput = options.onOutput;
  const rt = new EmbeddedRuntime(job, {
    ...options,
    onOutput: (sink, values, task, partition) => {
      let arr = out.get(sink);
      if (!arr) {
        arr = [];
        out.set(sink, arr);
      }
      for (const v of values) arr.push(v);
      onOutput?.(sink, values, task, partition);
    },
  });
  await rt.run();
  return out;
}
