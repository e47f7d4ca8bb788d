// The `nexmark generate` command: writing events as JSON lines, and parsing its options.

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.ts";
import { nexmarkGenerateCommand, parseNexmarkOptions } from "../../core/nexmark/cli.ts";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { type NexmarkEvent, nexmarkConfig } from "../../core/nexmark/model.ts";
import { BASE } from "./nexmark-generator-helpers.ts";

class Collector extends Writable {
  chunks: string[] = [];
  /** Most bytes ever queued in the stream (written but not yet consumed). */
  maxBuffered = 0;
  constructor(options: { highWaterMark?: number; delayMs?: number } = {}) {
    const delay = options.delayMs ?? 0;
    super({
      highWaterMark: options.highWaterMark ?? 16_384,
      decodeStrings: false,
      write: (chunk: string | Buffer, _enc, cb) => {
        this.chunks.push(String(chunk));
        this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
        if (delay > 0) setTimeout(cb, delay);
        else cb();
      },
    });
  }
  text(): string {
    return this.chunks.join("");
  }
}

describe("nexmark generate command", () => {
  const keys = {
    person: ["type", "id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"],
    auction: [
      "type",
      "id",
      "itemName",
      "description",
      "initialBid",
      "reserve",
      "dateTime",
      "expires",
      "seller",
      "category",
      "extra",
    ],
    bid: ["type", "auction", "bidder", "price", "channel", "url", "dateTime", "extra"],
  };

  it("writes --events 1000 --seed 7 byte-identically, one JSON event per line in id order", async () => {
    const opts = parseNexmarkOptions({ events: "1000", seed: "7" });
    const first = new Collector();
    await nexmarkGenerateCommand(opts, first);
    const second = new Collector();
    await nexmarkGenerateCommand(opts, second);
    expect(second.text()).toBe(first.text());
    expect(first.text().endsWith("\n")).toBe(true);
    const lines = first.text().slice(0, -1).split("\n");
    expect(lines).toHaveLength(1000);
    const config = nexmarkConfig({ seed: 7 });
    lines.forEach((line, e) => {
      const parsed = JSON.parse(line) as NexmarkEvent;
      expect(Object.keys(parsed)).toEqual(keys[parsed.type]);
      expect(parsed).toEqual(nexmarkEvent(e, config));
      expect(parsed.dateTime).toBe(BASE + Math.floor(e / 10));
    });
    const other = new Collector();
    await nexmarkGenerateCommand({ ...opts, seed: 8 }, other);
    expect(other.text()).not.toBe(first.text());
  });

  it("waits for drain on a slow output and still writes everything in order", async () => {
    const slow = new Collector({ highWaterMark: 1024, delayMs: 1 });
    let drains = 0;
    slow.on("drain", () => drains++);
    await nexmarkGenerateCommand({ events: 40_000, seed: 1, rate: 10_000 }, slow);
    expect(drains).toBeGreaterThan(1);
    const fast = new Collector();
    await nexmarkGenerateCommand({ events: 40_000, seed: 1, rate: 10_000 }, fast);
    expect(slow.text()).toBe(fast.text());
    expect(slow.text().split("\n")).toHaveLength(40_001);
    // ~8 MB in all, but never more than about one chunk queued at a time.
    expect(slow.text().length).toBeGreaterThan(6_000_000);
    expect(slow.maxBuffered).toBeLessThan(2_000_000);
  });

  it("writes nothing for --events 0, and rejects when the output fails", async () => {
    const empty = new Collector();
    await nexmarkGenerateCommand({ events: 0, seed: 1, rate: 1 }, empty);
    expect(empty.text()).toBe("");
    const broken = new Writable({ write: (_chunk, _enc, cb) => cb(new Error("EPIPE")) });
    await expect(nexmarkGenerateCommand({ events: 10_000, seed: 1, rate: 10 }, broken)).rejects.toThrow("EPIPE");
    let writes = 0;
    const later = new Writable({
      highWaterMark: 1 << 30,
      write: (_chunk, _enc, cb) => {
        writes++;
        setTimeout(() => cb(writes === 2 ? new Error("EPIPE later") : null), 1);
      },
    });
    await expect(nexmarkGenerateCommand({ events: 40_000, seed: 1, rate: 10 }, later)).rejects.toThrow("EPIPE later");
    const closed = new Collector();
    closed.destroy();
    await expect(nexmarkGenerateCommand({ events: 10, seed: 1, rate: 10 }, closed)).rejects.toThrow(/closed/);
  });

  it("parses options with defaults", () => {
    expect(parseNexmarkOptions({ events: "10000000" })).toEqual({ events: 10_000_000, seed: 0, rate: 10_000 });
    expect(parseNexmarkOptions({ events: "0", seed: "-3", rate: "2.5" })).toEqual({ events: 0, seed: -3, rate: 2.5 });
    expect(parseNexmarkOptions({ events: "5", rate: "1e6" })).toEqual({ events: 5, seed: 0, rate: 1e6 });
  });

  it("rejects bad options with a one-line UsageError naming the flag", () => {
    const cases: [Record<string, string>, string][] = [
      [{ events: "x" }, "invalid --events 'x': expected a non-negative integer"],
      [{ events: "-1" }, "invalid --events '-1': expected a non-negative integer"],
      [{ events: "1.5" }, "invalid --events '1.5': expected a non-negative integer"],
      [{ events: "" }, "invalid --events '': expected a non-negative integer"],
      [{ events: "99999999999999999999" }, "invalid --events '99999999999999999999': expected a non-negative integer"],
      [{ events: "10", seed: "abc" }, "invalid --seed 'abc': expected an integer"],
      [{ events: "10", seed: "1.5" }, "invalid --seed '1.5': expected an integer"],
      [{ events: "10", seed: "0x10" }, "invalid --seed '0x10': expected an integer"],
      [{ events: " 7" }, "invalid --events ' 7': expected a non-negative integer"],
      [{ events: "10", rate: "0" }, "invalid --rate '0': expected a positive number"],
      [{ events: "10", rate: "-5" }, "invalid --rate '-5': expected a positive number"],
      [{ events: "10", rate: "fast" }, "invalid --rate 'fast': expected a positive number"],
      [{ events: "10", rate: "Infinity" }, "invalid --rate 'Infinity': expected a positive number"],
      [{}, "missing --events: expected a non-negative integer"],
    ];
    for (const [raw, message] of cases) {
      let caught: unknown;
      try {
        parseNexmarkOptions(raw);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).message).toBe(message);
      expect((caught as UsageError).message).not.toContain("\n");
    }
  });
});
