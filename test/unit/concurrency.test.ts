/** The shared limiter (`core/concurrency.ts`): at most `limit` tasks at once, the others in the order handed over. */
import { describe, expect, it } from "vitest";
import { Limiter, mapLimit } from "../../core/concurrency.ts";

/** A task that logs its start and ends when `release` is called with its name. */
function tasks() {
  const started: string[] = [];
  const ends = new Map<string, () => void>();
  const task = (name: string) => async () => {
    started.push(name);
    await new Promise<void>((resolve) => ends.set(name, resolve));
    return name;
  };
  const release = async (name: string) => {
    ends.get(name)?.();
    for (let i = 0; i < 5; i++) await Promise.resolve(); // the next task starts
  };
  return { started, task, release };
}

describe("Limiter", () => {
  it("runs at most `limit` tasks at once, the waiting ones first in first out", async () => {
    const { started, task, release } = tasks();
    const limiter = new Limiter(2);
    const done = ["a", "b", "c", "d"].map((n) => limiter.run(task(n)));
    await Promise.resolve();
    expect(started).toEqual(["a", "b"]);
    await release("b");
    expect(started).toEqual(["a", "b", "c"]);
    await release("a");
    expect(started).toEqual(["a", "b", "c", "d"]);
    await release("c");
    await release("d");
    expect(await Promise.all(done)).toEqual(["a", "b", "c", "d"]);
  });

  it("frees the place of a task that fails, and tells when a place is spare", async () => {
    let spare = 0;
    const limiter = new Limiter(1, () => spare++);
    await expect(limiter.run(() => Promise.reject(new Error("down")))).rejects.toThrow("down");
    const [x, y] = [limiter.run(async () => "x"), limiter.run(async () => "y")];
    expect(await Promise.all([x, y])).toEqual(["x", "y"]);
    expect(spare).toBe(2); // after the failure, and after y (x handed its place to y)
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
    expect(() => new Limiter(1.5)).toThrow(RangeError);
  });
});

describe("mapLimit", () => {
  it("maps in input order, at most `limit` calls at once", async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
