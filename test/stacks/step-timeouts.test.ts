/**
 * A compaction's lease and a restore's staleness outlive every step that may hold
 * them (`LONGEST_STEP_MS`): the Lambda timeouts of the coordinator and the API end
 * those steps first, so a lease or a restore older than that has no holder left.
 */

import { describe, expect, it } from "vitest";
import { LONGEST_STEP_MS } from "../../core/checkpoint/config.ts";
import { STALE_RESTORE_MS } from "../../core/checkpoint/steps.ts";
import { API_TIMEOUT_SECONDS, COORDINATOR_TIMEOUT_SECONDS } from "../../stacks/functions.ts";

describe("step timeouts", () => {
  it("the coordinator's and the API's Lambda timeouts end before a lease or a restore is taken for dead", () => {
    for (const seconds of [COORDINATOR_TIMEOUT_SECONDS, API_TIMEOUT_SECONDS]) {
      expect(seconds * 1000).toBeLessThan(LONGEST_STEP_MS);
    }
    expect(STALE_RESTORE_MS).toBe(LONGEST_STEP_MS);
    // Short enough that a crashed holder blocks checkpoints and restores for minutes, not a quarter hour.
    expect(LONGEST_STEP_MS).toBeLessThanOrEqual(5 * 60_000);
  });
});
