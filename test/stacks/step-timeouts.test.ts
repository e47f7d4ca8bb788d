/**
 * A restore is taken for dead (and finished by the next round) once it is older than
 * every step that may run it (`LONGEST_STEP_MS`): the Lambda timeouts of the
 * coordinator and the API end those steps first.
 */

import { describe, expect, it } from "vitest";
import { LONGEST_STEP_MS } from "../../core/checkpoint/config.ts";
import { STALE_RESTORE_MS } from "../../core/checkpoint/steps.ts";
import { API_TIMEOUT_SECONDS, COORDINATOR_TIMEOUT_SECONDS } from "../../stacks/functions.ts";

describe("step timeouts", () => {
  it("the coordinator's and the API's Lambda timeouts end before a restore is taken for dead", () => {
    for (const seconds of [COORDINATOR_TIMEOUT_SECONDS, API_TIMEOUT_SECONDS]) {
      expect(seconds * 1000).toBeLessThan(LONGEST_STEP_MS);
    }
    expect(STALE_RESTORE_MS).toBe(LONGEST_STEP_MS);
    // Minutes, not a quarter hour, before a restore whose Lambda died is finished.
    expect(LONGEST_STEP_MS).toBeLessThanOrEqual(5 * 60_000);
  });
});
