/**
 * Page views per user over a generated click stream.
 *
 * 200,000 clicks by 12 users over 40 pages. Per user, riffle keeps a running
 * count and the set of distinct pages in keyed state, and emits one summary row per
 * user when the input ends (an event-time timer at the end of time).
 *
 *   ./riffle run examples/page-views.ts --parallelism 2
 */
import { defineJob, mapState, valueState } from "riffle";

const USERS = [
  "ada",
  "alan",
  "barbara",
  "donald",
  "edsger",
  "grace",
  "john",
  "ken",
  "leslie",
  "margaret",
  "niklaus",
  "tony",
];

export interface Click {
  user: string;
  page: string;
  ms: number;
}

/** Deterministic pseudo-random click i. */
export function click(i: number): Click {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const user = USERS[h % USERS.length] as string;
  const page = `/docs/${(h >>> 8) % 40}`;
  return { user, page, ms: 20 + ((h >>> 16) % 900) };
}

export default defineJob("page-views", (env) => {
  env
    .fromGenerator(click, { count: 200_000 })
    .filter((c) => c.ms < 900) // drop bounces
    .keyBy((c) => c.user)
    .process({
      state: { views: valueState<number>(), pages: mapState<number>(), first: valueState<boolean>() },
      processElement(c, ctx) {
        ctx.state.views.update((ctx.state.views.value() ?? 0) + 1);
        ctx.state.pages.put(c.page, (ctx.state.pages.get(c.page) ?? 0) + 1);
        if (!ctx.state.first.value()) {
          ctx.state.first.update(true);
          ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER); // fires when the input ends
        }
      },
      onTimer(_t, ctx) {
        const pages = ctx.state.pages.entries().sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        ctx.emit({
          user: ctx.key,
          views: ctx.state.views.value() ?? 0,
          distinctPages: pages.length,
          topPage: pages[0]?.[0],
        });
      },
    })
    .sinkTo("views");
});
