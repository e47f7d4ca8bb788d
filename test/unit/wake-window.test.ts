import { describe, expect, it } from "vitest";
import { lingerUntil, WAKE_MARGIN_MS, WakeWindow } from "../../core/control/wake-window.ts";

describe("WakeWindow: when an ingest append's wake-up is windowed", () => {
  it("never windows without a window", () => {
    const w = new WakeWindow(undefined);
    expect([0, 10, 20, 30].map((t) => w.until("s#0", t))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("wakes at once after a quiet spell, and once per window while appends come faster than one a window", () => {
    const w = new WakeWindow(1000);
    // First append, then three within the window of 1000-2000, then one in the next window.
    expect(w.until("s#0", 1100)).toBeUndefined();
    expect(w.until("s#0", 1200)).toBe(2000);
    expect(w.until("s#0", 1900)).toBe(2000);
    expect(w.until("s#0", 2050)).toBe(3000);
    // A pause of a window or more: the next append has a wake-up of its own again.
    expect(w.until("s#0", 3050)).toBeUndefined();
    expect(w.until("s#0", 4100)).toBeUndefined();
  });

  it("keeps each partition's rate apart", () => {
    const w = new WakeWindow(500);
    expect(w.until("s#0", 100)).toBeUndefined();
    expect(w.until("s#1", 200)).toBeUndefined();
    expect(w.until("s#0", 300)).toBe(500);
    expect(w.until("s#1", 900)).toBeUndefined();
  });

  it("lingers a margin past the window's end", () => {
    expect(lingerUntil(2000)).toBe(2000 + WAKE_MARGIN_MS);
  });
});
