/**
 * Regular joins, inner and outer: the changelog the join function emits as matches come and go,
 * and LEFT / RIGHT / FULL OUTER joins over retracting (group-aggregated) Nexmark tables against
 * DuckDB's joins of the same events, at parallelism 1 and 4 and under injected faults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamExecutionEnvironment } from "../../core/api/environment.ts";
import type { KeyedContext } from "../../core/api/functions.ts";
import type { MapState } from "../../core/api/state.ts";
import type { Key } from "../../core/keys.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import type { Change } from "../../core/sql/aggregate.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { regularJoin } from "../../core/sql/join.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { expectOlderLayoutRefused } from "../support/layout-refusal.ts";
import { memoryMap } from "../support/memory-map.ts";
import { nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** Drives a LEFT (or FULL) join of rows [k, l] and [k, r] on k by hand; returns what each step emitted. */
function harness(outer: "LEFT" | "FULL", leftInsertOnly = false) {
  const code = { residual: undefined, concat: (l: readonly unknown[], r: readonly unknown[]) => [...l, ...r] };
  const sides = { leftOuter: true, rightOuter: outer === "FULL", leftWidth: 2, rightWidth: 2, leftInsertOnly };
  const fn = regularJoin(code, sides);
  const states = new Map<unknown, { left: MapState<unknown>; right: MapState<unknown> }>();
  const step = (side: 1 | 2, kind: Change["kind"], row: unknown[]) => {
    const out: string[] = [];
    const state = states.get(row[0]) ?? { left: memoryMap(), right: memoryMap() };
    states.set(row[0], state);
    const ctx = { key: [row[0]] as Key, state, emit: (c: Change) => out.push(`${c.kind}${JSON.stringify(c.row)}`) };
    const change = { kind, row };
    if (side === 1) fn.processElement1(change, ctx as unknown as KeyedContext<Key, never, Change>);
    else fn.processElement2(change, ctx as unknown as KeyedContext<Key, never, Change>);
    return out;
  };
  /** Hands `rows` of one key to the left side's bundle function at once. */
  const bundle = (rows: unknown[][]) => {
    const out: string[] = [];
    const state = states.get(rows[0]?.[0]) as { left: MapState<unknown>; right: MapState<unknown> };
    const ctx = {
      key: [rows[0]?.[0]] as Key,
      state,
      emit: (c: Change) => out.push(`${c.kind}${JSON.stringify(c.row)}`),
    };
    const changes = rows.map((row): Change => ({ kind: "+I", row }));
    fn.processBundle1?.(changes, ctx as unknown as KeyedContext<Key, never, Change>);
    return out;
  };
  return {
    left: (k: Change["kind"], r: unknown[]) => step(1, k, r),
    right: (k: Change["kind"], r: unknown[]) => step(2, k, r),
    bundle,
    state: (k: unknown) => states.get(k),
    bundles: fn.processBundle1 !== undefined,
  };
}

describe("the regular join function", () => {
  it("emits a LEFT row padded with NULLs, retracts it at the first match and brings it back after the last", () => {
    const h = harness("LEFT");
    expect(h.left("+I", ["a", 1])).toEqual(['+I["a",1,null,null]']);
    expect(h.right("+I", ["a", 10])).toEqual(['-D["a",1,null,null]', '+I["a",1,"a",10]']);
    expect(h.right("+I", ["a", 11])).toEqual(['+I["a",1,"a",11]']);
    expect(h.right("-U", ["a", 10])).toEqual(['-D["a",1,"a",10]']);
    expect(h.right("-D", ["a", 11])).toEqual(['-D["a",1,"a",11]', '+I["a",1,null,null]']);
    expect(h.right("+I", ["b", 5])).toEqual([]); // the right side of a LEFT join is not kept alone
    expect(h.left("-D", ["a", 1])).toEqual(['-D["a",1,null,null]']);
    expect(h.left("+I", ["b", 2])).toEqual(['+I["b",2,"b",5]']);
  });

  it("pads both sides of a FULL join, and never matches a NULL key", () => {
    const h = harness("FULL");
    expect(h.right("+I", ["a", 10])).toEqual(['+I[null,null,"a",10]']);
    expect(h.left("+I", ["a", 1])).toEqual(['-D[null,null,"a",10]', '+I["a",1,"a",10]']);
    expect(h.left("+I", ["a", 1])).toEqual(['+I["a",1,"a",10]']); // a second equal row
    expect(h.right("-D", ["a", 10])).toEqual([
      '-D["a",1,"a",10]',
      '-D["a",1,"a",10]',
      '+I["a",1,null,null]',
      '+I["a",1,null,null]',
    ]);
    expect(h.right("+I", [null, 3])).toEqual(["+I[null,null,null,3]"]);
    expect(h.left("+I", [null, 4])).toEqual(["+I[null,4,null,null]"]);
  });
});

/** The keys of the left side's stored map of join key `k`, sorted. */
const storedKeys = (h: ReturnType<typeof harness>, k: string) =>
  (h.state(k)?.left.entries() ?? []).map(([key]) => key).sort();

describe("the regular join function over an insert-only side", () => {
  it("stores each of its rows under a sequence number, equal rows apart, and joins them one by one", () => {
    const h = harness("LEFT", true);
    expect(h.left("+I", ["a", 1])).toEqual(['+I["a",1,null,null]']);
    expect(h.left("+I", ["a", 1])).toEqual(['+I["a",1,null,null]']);
    expect(storedKeys(h, "a")).toEqual(["0", "1", "n"]);
    expect(h.right("+I", ["a", 10])).toEqual([
      '-D["a",1,null,null]',
      '+I["a",1,"a",10]',
      '-D["a",1,null,null]',
      '+I["a",1,"a",10]',
    ]);
    expect(h.right("-D", ["a", 10])).toEqual([
      '-D["a",1,"a",10]',
      '+I["a",1,null,null]',
      '-D["a",1,"a",10]',
      '+I["a",1,null,null]',
    ]);
  });

  it("takes a key's rows at once when the other side keeps no outer counts, and not in a FULL join", () => {
    const h = harness("LEFT", true);
    expect(h.bundles).toBe(true);
    expect(harness("FULL", true).bundles).toBe(false);
    expect(harness("LEFT").bundles).toBe(false);
    h.right("+I", ["a", 10]);
    h.right("+I", ["a", 11]);
    expect(
      h.bundle([
        ["a", 1],
        ["a", 2],
      ]),
    ).toEqual(['+I["a",1,"a",10]', '+I["a",1,"a",11]', '+I["a",2,"a",10]', '+I["a",2,"a",11]']);
    expect(h.state("a")?.left.get("n")).toBe(2);
    expect(h.left("+I", ["a", 3])).toEqual(['+I["a",3,"a",10]', '+I["a",3,"a",11]']);
    expect(storedKeys(h, "a")).toEqual(["0", "1", "2", "n"]);
  });
});

/** Three outer joins over group aggregates (retracting inputs); DuckDB runs the same SQL. */
const QUERIES: Record<string, string> = {
  left: `SELECT a.id, a.seller, b.n, b.top FROM auction a
      LEFT JOIN (SELECT auction, COUNT(*) AS n, MAX(price) AS top FROM bid GROUP BY auction) b ON a.id = b.auction`,
  right: `SELECT p.id, p.name, s.n FROM (SELECT seller, COUNT(*) AS n FROM auction GROUP BY seller) s
      RIGHT OUTER JOIN person p ON p.id = s.seller AND s.n > 1`,
  full: `SELECT b.bidder, b.n, a.seller, a.m FROM (SELECT bidder, COUNT(*) AS n FROM bid GROUP BY bidder) b
      FULL OUTER JOIN (SELECT seller, COUNT(*) AS m FROM auction GROUP BY seller) a ON b.bidder = a.seller AND b.n > 20`,
};

const SINKS: Record<string, string> = {
  left: "id BIGINT, seller BIGINT, n BIGINT, top BIGINT",
  right: "id BIGINT, name VARCHAR, n BIGINT",
  full: "bidder BIGINT, n BIGINT, seller BIGINT, m BIGINT",
};

const script = (q: string, events: number, rate = 10_000) =>
  `${nexmarkTables(events, rate)};
  CREATE TABLE out_${q} (${SINKS[q]}) WITH ('connector' = 'print');
  INSERT INTO out_${q} ${QUERIES[q]}`;

const positional = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [`c${i}`, v])));

const diff = (out: ReadonlyMap<string, readonly unknown[]>, q: string, expected: Record<string, unknown>[]) =>
  compareMultisets(positional(foldChangelog(out.get(`out_${q}`) ?? [])), positional(expected));

describe("outer joins vs DuckDB", () => {
  const events = 2000;
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(events);
  });
  afterAll(() => oracle?.close());

  it("explains the join type and a retracting changelog", () => {
    const explain = (q: string) => planSql(script(q, events).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];
    const text = explain("full");
    expect(text).toMatch(
      /Join\(type=\[FullOuterJoin\], keys=\[bidder = seller\], where=\[.*n > 20.*changelogMode=\[I,UB,UA,D\]/,
    );
    expect(explain("left")).toMatch(/Join\(type=\[LeftOuterJoin\]/);
  });

  for (const q of Object.keys(QUERIES)) {
    it(`${q} outer join at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(QUERIES[q] ?? "");
      expect(expected.some((r) => Object.values(r).includes(null))).toBe(true);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob(`outer-${q}`, script(q, events)), {
          clock: new ManualClock(),
          parallelism,
        });
        expect(diff(out, q, expected), `${q} at parallelism ${parallelism}`).toEqual([]);
      }
    });

    it(`${q} outer join under injected faults, seeds 1-3`, async () => {
      const expected = await oracle.runSql(QUERIES[q] ?? "");
      // The two sides share one scan of the table (sub-plan reuse): batches of 29 keep a run at more than 5 checkpoints.
      const faulty = (env: StreamExecutionEnvironment) => {
        env.configure({ sourceBatchSize: 29, maxRecordsPerEnvelope: 16 });
        env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
      };
      let crashes = 0;
      for (const seed of [1, 2, 3]) {
        const job = sqlJob(`outer-${q}`, script(q, events), faulty);
        const r = await simulate({ name: `outer-${q}`, job, check: (out) => diff(out, q, expected) }, seed);
        expect(r.diffs, `${q} seed ${seed}`).toEqual([]);
        expect(r.checkpoints, `${q} seed ${seed}: checkpoints`).toBeGreaterThan(5);
        crashes += r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers;
      }
      expect(crashes, `${q}: crashes injected`).toBeGreaterThan(0);
    });
  }
});

describe("a savepoint of the regular join's layout before version 3", () => {
  it("is refused on restore, naming the join's uid (its insert-only side was stored by JSON)", async () => {
    const job = sqlJob("regular", script("left", 1000), (env) => {
      env.configure({ sourceBatchSize: 50 });
      env.enableCheckpointing(10);
    });
    await expectOlderLayoutRefused(job, "regular", "j3", "-j2");
  });
});
