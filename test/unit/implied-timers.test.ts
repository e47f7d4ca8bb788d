/** The timer service's implied event-time timers, by hand: kept in memory only, fired while their key holds the state. */
import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { StateTtlConfig } from "../../core/api/state-ttl.ts";
import { InternalError, JobDefinitionError } from "../../core/errors.ts";
import { KeyedBackend } from "../../core/runtime/keyed-backend.ts";
import { Timers } from "../../core/runtime/timers.ts";

const STATE = "op/groups";
const at = (key: unknown) => (key as number) * 10 + 9;

/** A backend and timers whose key `k` implies a timer at `k * 10 + 9` while it holds {@link STATE}. */
function service() {
  const backend = new KeyedBackend(true);
  const timers = new Timers(backend, "op", { stateId: STATE, at, storesOthers: false });
  const use = (key: number) => {
    backend.current.key = key;
    backend.current.enc = String(key);
    backend.current.group = 0;
  };
  const fired: [key: unknown, t: number][] = [];
  const fire = (limit: number) =>
    timers.fire("e", limit, (t) => {
      fired.push([backend.current.key, t]);
      backend.set(STATE, undefined);
    });
  return { backend, timers, use, fired, fire };
}

describe("implied event-time timers", () => {
  it("write nothing, and fire once per key that still holds the state", () => {
    const { backend, timers, use, fired, fire } = service();
    for (const k of [1, 2, 3]) {
      use(k);
      backend.set(STATE, ["row"]);
      timers.register("e", at(k));
    }
    use(2);
    timers.register("e", at(2)); // registered twice
    use(3);
    backend.set(STATE, undefined); // key 3 gave its state up: its timer is void
    expect(backend.changes().map((c) => c.s)).toEqual([STATE, STATE, STATE]);
    fire(100);
    // Each fired timer's key clears its state (as onTimer should): key 2 fires once.
    expect(fired).toEqual([
      [1, 19],
      [2, 29],
    ]);
  });

  it("refuse a time other than the key's, and deletion", () => {
    const { timers, use } = service();
    use(4);
    expect(() => timers.register("e", 50)).toThrow(InternalError);
    expect(() => timers.register("e", 50)).toThrow("an implied event-time timer at 50, not at its key's time 49");
    expect(() => timers.delete("e", 49)).toThrow("an implied event-time timer cannot be deleted");
    timers.register("p", 50); // processing time: stored as ever
  });

  it("are set again from the keys that hold the state", () => {
    const { backend, timers, use, fired, fire } = service();
    use(7);
    backend.set(STATE, ["row"]);
    timers.restoreImplied([["7", 0, 7, ["row"]]]);
    expect(timers.next("e")).toBe(79);
    fire(79);
    expect(fired).toEqual([[7, 79]]);
  });

  it("name one of the function's states, or the job is refused when it is built (one input or two)", () => {
    const fn = (state: string) => ({
      state: { n: valueState<number>() },
      impliedTimers: { state: state as "n", at: (k: number) => k },
      processElement() {},
      processElement1() {},
      processElement2() {},
    });
    const one = (state: string) =>
      defineJob("implied", (env) => {
        env
          .fromElements([1, 2])
          .keyBy((x) => x)
          .process(fn(state))
          .sinkTo("out");
      });
    const two = (state: string) =>
      defineJob("implied", (env) => {
        env
          .fromElements([1, 2])
          .connect(env.fromElements([3]))
          .keyBy(
            (x) => x,
            (x) => x,
          )
          .process(fn(state))
          .sinkTo("out");
      });
    for (const job of [one, two]) {
      expect(() => buildGraph(job("count"))).toThrow(JobDefinitionError);
      expect(() => buildGraph(job("count"))).toThrow(
        "process(): impliedTimers.state 'count' is not one of the function's states (n)",
      );
      expect(() => buildGraph(job("n"))).not.toThrow();
    }
    // A state with a TTL would take its timers with it when it expires.
    const ttl = defineJob("implied-ttl", (env) => {
      env
        .fromElements([1])
        .keyBy((x) => x)
        .process({
          state: { n: valueState<number>({ ttl: StateTtlConfig.newBuilder(1000).build() }) },
          impliedTimers: { state: "n", at: (k: number) => k },
          processElement() {},
        })
        .sinkTo("out");
    });
    expect(() => buildGraph(ttl)).toThrow(
      "process(): impliedTimers.state 'n' has a TTL; a state that implies timers cannot expire by itself",
    );
  });
});

describe("implied event-time timers from the state's value, beside stored ones", () => {
  /** Key `k` holding row `[expiry]` implies a timer at its expiry; other timers are stored. */
  function mixed() {
    const backend = new KeyedBackend(true);
    const timers = new Timers(backend, "op", {
      stateId: STATE,
      at: (_k, v) => (v === undefined ? Number.NaN : ((v as number[])[0] as number)),
      storesOthers: true,
    });
    const use = (key: number) => Object.assign(backend.current, { key, enc: String(key), group: 0 });
    const fired: [key: unknown, t: number][] = [];
    const fire = (limit: number) => timers.fire("e", limit, (t) => void fired.push([backend.current.key, t]));
    return { backend, timers, use, fired, fire };
  }

  it("keep the value's time in memory, store any other, and let a stored one be deleted", () => {
    const { backend, timers, use, fired, fire } = mixed();
    use(1);
    backend.set(STATE, [30]);
    timers.register("e", 30); // implied by the value: nothing written
    timers.register("e", 20); // another time: stored
    timers.register("e", 25);
    timers.delete("e", 25);
    use(2);
    timers.register("e", 40); // no value yet: stored
    expect(backend.changes().map((c) => c.s)).toEqual([STATE, "op/$timers", "op/$timers"]);
    fire(100);
    expect(fired).toEqual([
      [1, 20],
      [1, 30],
      [2, 40],
    ]);
  });

  it("fire only while the value still implies the timer's time", () => {
    const { backend, timers, use, fired, fire } = mixed();
    use(1);
    backend.set(STATE, [30]);
    timers.register("e", 30);
    backend.set(STATE, [50]); // a new value: its own time, the old one void
    timers.register("e", 50);
    fire(100);
    expect(fired).toEqual([[1, 50]]);
    backend.set(STATE, [70]);
    timers.restoreImplied([["1", 0, 1, [70]]]); // a restore sets each key's timer from its value
    fire(100);
    expect(fired).toEqual([
      [1, 50],
      [1, 70],
    ]);
  });
});
