/** A changed uid is named as one, whatever else changed. */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { planJob } from "../../core/graph/planner.ts";
import { describeUidChange, uidChange } from "../../core/graph/uids.ts";

const plan = planJob(
  buildGraph(
    defineJob("j", (env) => {
      env
        .fromElements([1])
        .uid("src")
        .keyBy((n) => n)
        .sum()
        .uid("adder")
        .sinkTo("out");
    }),
  ),
);

describe("uidChange", () => {
  it("is undefined for the same uids, in any order", () => {
    expect(uidChange(plan, ["adder", "src"])).toBeUndefined();
  });

  it("names a renamed uid, and new and gone ones", () => {
    const renamed = uidChange(plan, ["src", "summer"]);
    expect(renamed).toEqual({ gone: ["summer"], added: ["adder"] });
    expect(describeUidChange(renamed as NonNullable<typeof renamed>)).toBe(
      "operator uid 'summer' is gone and 'adder' is new: a uid changed, and state is kept under the uid (set the old uid again with .uid(…))",
    );
    expect(describeUidChange({ gone: ["a", "b"], added: [] })).toMatch(
      /^operator uid 'a', 'b' are gone: a uid changed/,
    );
    expect(describeUidChange({ gone: [], added: ["c"] })).toBe("operator uid 'c' is new");
  });
});

describe("uidChange of a job whose tasks were chained into another", () => {
  const forked = planJob(
    buildGraph(
      defineJob("f", (env) => {
        const src = env.fromElements([1]).uid("src");
        src
          .map((n) => n)
          .uid("a")
          .sinkTo("a");
        src
          .map((n) => -n)
          .uid("b")
          .sinkTo("b");
      }),
    ),
  );

  it("names the operators that now run chained, and the task they run in", () => {
    const change = uidChange(forked, ["src", "a", "b"]);
    expect(change).toEqual({ gone: ["a", "b"], added: [], chained: { a: "src", b: "src" } });
    expect(describeUidChange(change as NonNullable<typeof change>)).toMatch(
      /^the job's tasks changed: operator 'a' now runs chained in task 'src', 'b' now runs chained in task 'src' \(/,
    );
  });

  it("speaks of a changed uid when one of the gone uids is no operator of the job", () => {
    const change = uidChange(forked, ["src", "a", "old"]);
    expect(change).toEqual({ gone: ["a", "old"], added: [], chained: { a: "src" } });
    expect(describeUidChange(change as NonNullable<typeof change>)).toMatch(
      /^operator uid 'a', 'old' are gone: a uid changed/,
    );
  });
});
