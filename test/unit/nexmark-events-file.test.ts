/** Reading a Nexmark events file: every line is checked before a job runs. */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.ts";
import { readNexmarkEvents } from "../../core/nexmark/events-file.ts";

const dir = mkdtempSync(join(tmpdir(), "riffle-nx-"));
function file(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(path, text);
  return path;
}

const bid = { type: "bid", auction: 1, bidder: 2, price: 3, channel: "c", url: "u", dateTime: 4, extra: "" };

describe("readNexmarkEvents", () => {
  it("reads the events of every non-empty line, in order", () => {
    const path = file(`${JSON.stringify(bid)}\n\n${JSON.stringify({ ...bid, price: 9 })}\n`);
    expect(readNexmarkEvents(path).map((e) => (e.type === "bid" ? e.price : -1))).toEqual([3, 9]);
  });

  it.each([
    ["[1]", /line 2 is not a Nexmark event: expected a JSON object$/],
    [JSON.stringify({ ...bid, type: "click" }), /line 2 is not a Nexmark event: "type" must be .* got "click"$/],
    [JSON.stringify({ ...bid, price: "3" }), /line 2 is not a Nexmark event: a bid needs a number "price"$/],
    ["{not json", /line 2 is not JSON: /],
  ])("refuses %s naming the file and line", (line, message) => {
    const path = file(`${JSON.stringify(bid)}\n${line}\n`);
    expect(() => readNexmarkEvents(path)).toThrow(UsageError);
    expect(() => readNexmarkEvents(path)).toThrow(message);
    expect(() => readNexmarkEvents(path)).toThrow(`input file '${path}'`);
  });

  it("names a missing file", () => {
    expect(() => readNexmarkEvents(join(dir, "nope.jsonl"))).toThrow(/^cannot find input file '.*nope.jsonl'$/);
  });
});
