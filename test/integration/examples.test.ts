/** The example jobs produce what a plain-JS computation says they should. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import pageViews, { click } from "../../examples/page-views.ts";
import wordCount from "../../examples/word-count.ts";

describe("examples", () => {
  it("word-count emits a running count per word", async () => {
    const out = await runToCompletion(wordCount, { clock: new ManualClock() });
    const words = "to be or not to be that is the question".split(" ");
    const expected: string[] = [];
    const seen = new Map<string, number>();
    for (const w of words) {
      seen.set(w, (seen.get(w) ?? 0) + 1);
      expected.push(JSON.stringify({ word: w, count: seen.get(w) }));
    }
    expect((out.get("counts") ?? []).map((v) => JSON.stringify(v)).sort()).toEqual(expected.sort());
  });

  it.each([1, 2, 4])("page-views gives the same per-user summary at parallelism %i", async (parallelism) => {
    const out = await runToCompletion(pageViews, { clock: new ManualClock(), parallelism });
    const views = new Map<string, { views: number; pages: Map<string, number> }>();
    for (let i = 0; i < 200_000; i++) {
      const c = click(i);
      if (c.ms >= 900) continue;
      const u = views.get(c.user) ?? { views: 0, pages: new Map<string, number>() };
      u.views++;
      u.pages.set(c.page, (u.pages.get(c.page) ?? 0) + 1);
      views.set(c.user, u);
    }
    const expected = [...views].map(([user, u]) => {
      const top = [...u.pages].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
      return { user, views: u.views, distinctPages: u.pages.size, topPage: top };
    });
    const byUser = (a: { user: string }, b: { user: string }) => a.user.localeCompare(b.user);
    expect([...((out.get("views") ?? []) as { user: string }[])].sort(byUser)).toEqual(expected.sort(byUser));
  });
});
