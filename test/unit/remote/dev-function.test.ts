/** `riffle dev --function name=url`: parsed into aws-local's remote functions; a malformed one is a usage error. */
import { describe, expect, it } from "vitest";
import { remoteFunctionsOf } from "../../../cli/dev.ts";
import { UsageError } from "../../../core/errors.ts";

describe("riffle dev --function", () => {
  it("maps each Lambda function name to its local server", () => {
    expect(remoteFunctionsOf(["count=http://127.0.0.1:8081/", "score-2=http://127.0.0.1:9/x"])).toEqual({
      count: "http://127.0.0.1:8081/",
      "score-2": "http://127.0.0.1:9/x",
    });
  });
  it("refuses what is not name=http(s)://…", () => {
    for (const bad of ["count", "count=", "=http://x/", "count=ftp://x/", "a b=http://x/"]) {
      expect(() => remoteFunctionsOf([bad])).toThrow(UsageError);
    }
  });
});
