/**
 * `node bench/idle-source.ts [--seconds N]`: the CPU a job costs while its custom
 * unbounded source has nothing to read. Runs the job on the embedded runtime (system
 * clock, checkpoint every second) twice: with a source whose empty polls make it back
 * off (no `idle`), and with one that reports `idle` with a `wakeAt` 1 s ahead. After
 * one second of warm-up it measures the process's CPU time (`process.cpuUsage()`,
 * user + system) over N seconds (default 10) and prints, per variant, the share of
 * one core, the source partition's polls, and the segments it committed. A busy-polling
 * source would use a whole core.
 */

import { defineJob } from "../core/api/environment.ts";
import type { Source, SourceChunk } from "../core/api/source.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";

const at = process.argv.indexOf("--seconds");
const seconds = at < 0 ? 10 : Number(process.argv[at + 1]);
if (!(seconds > 0)) {
  process.stderr.write("idle-source: --seconds needs a positive number\n");
  process.exit(2);
}

/** A source of one split that never has anything; `empty` shapes its empty chunks. */
function silentSource(empty: (now: number) => Partial<SourceChunk<number>>, polls: { n: number }): Source<number> {
  return {
    name: "silent",
    bounded: false,
    splits: () => [{ id: "0" }],
    reader: (_split, position, context) => ({
      read: () => {
        polls.n++;
        return { records: [], position: position ?? 0, done: false, ...empty(context?.currentProcessingTime?.() ?? 0) };
      },
    }),
  };
}

async function measure(variant: string, empty: (now: number) => Partial<SourceChunk<number>>) {
  const polls = { n: 0 };
  const job = defineJob(`idle-${variant}`, (env) => {
    env.enableCheckpointing(1000);
    env
      .fromSource(silentSource(empty, polls))
      .keyBy((n) => n)
      .sum()
      .sinkTo("out");
  });
  const stop = new AbortController();
  const rt = new EmbeddedRuntime(job, { signal: stop.signal });
  const running = rt.run();
  await new Promise((r) => setTimeout(r, 1000));
  const source = () => rt.taskRunners.find((r) => r.task.isSource);
  const polls0 = polls.n;
  const segments0 = source()?.stats.segments ?? 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const result = {
    variant,
    seconds: Math.round(wallMs) / 1000,
    cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    polls: polls.n - polls0,
    sourceSegments: (source()?.stats.segments ?? 0) - segments0,
  };
  stop.abort();
  await running;
  return result;
}

const results = [
  await measure("backoff", () => ({})),
  await measure("idle-wakeAt-1s", (now) => ({ idle: true, wakeAt: now + 1000 })),
];
process.stdout.write(`${JSON.stringify({ idleSource: results }, null, 2)}\n`);
