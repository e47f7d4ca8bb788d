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
