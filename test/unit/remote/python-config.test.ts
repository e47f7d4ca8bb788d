/** `configureAws({ pythonFunctions })` is checked when the job is defined: a name, a .py file, a handler, the settings' ranges. */
import { describe, expect, it } from "vitest";
import { DEFAULT_AWS_CONFIG, mergeAwsConfig } from "../../../core/api/aws-config.ts";
import { JobDefinitionError } from "../../../core/errors.ts";

const merge = (pythonFunctions: Record<string, unknown>) =>
  mergeAwsConfig(DEFAULT_AWS_CONFIG, { pythonFunctions } as Parameters<typeof mergeAwsConfig>[1]);

describe("configureAws pythonFunctions", () => {
  it("keeps a valid function", () => {
    const c = merge({ count: { file: "examples/remote/functions.py", handler: "handler", memoryMb: 256 } });
    expect(c.pythonFunctions).toEqual({
      count: { file: "examples/remote/functions.py", handler: "handler", memoryMb: 256 },
    });
  });
  it("refuses a bad name, file, handler or memory", () => {
    for (const bad of [
      { "no spaces": { file: "f.py" } },
      { count: { file: "f.js" } },
      { count: { file: "f.py", handler: "not-a-name" } },
      { count: { file: "f.py", memoryMb: 64 } },
    ]) {
      expect(() => merge(bad)).toThrow(JobDefinitionError);
    }
  });
});
