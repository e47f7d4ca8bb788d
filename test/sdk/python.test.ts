/**
 * The Python SDK's own tests (`python3 -m unittest` in sdk/python), run by the
 * project's test command. python3 is required: .ci/run installs it, and without it
 * this test fails rather than skipping.
 */

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { requirePython, SDK_PYTHON } from "../support/python-function.ts";

describe("sdk/python", () => {
  it("passes its unittest suite", () => {
    requirePython();
    const r = spawnSync("python3", ["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"], {
      cwd: SDK_PYTHON,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The suite ran tests (an empty discovery exits 5 on 3.12+, 0 on 3.11).
    expect(r.stderr).toMatch(/Ran [1-9]\d* tests?/);
    expect(r.stderr).toMatch(/\nOK/);
  });
});
