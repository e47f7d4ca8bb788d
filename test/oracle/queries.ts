/** The oracle-checked queries and how to run one in riffle. */
import { join } from "node:path";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { type NexmarkQuery, nexmarkJob } from "../../examples/nexmark/lib.ts";

/** Every query with an oracle (q12 uses processing time and has none). */
export const QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q9", "q11", "q14", "q15", "q17", "q18", "q19"];

/** Runs `q` in riffle over generated events (seed 7) and returns its result rows. */
export async function riffleRows(
  q: string,
  events: number,
  rate: number,
  parallelism: number,
): Promise<Record<string, unknown>[]> {
  const mod = (await import(join(import.meta.dirname, "../../examples/nexmark", `${q}.ts`))) as { query: NexmarkQuery };
  const job = nexmarkJob(`nexmark-${q}`, mod.query, { events, rate, seed: 7 });
  const out = await runToCompletion(job, { clock: new ManualClock(), parallelism });
  return (out.get("result") ?? []) as Record<string, unknown>[];
}
