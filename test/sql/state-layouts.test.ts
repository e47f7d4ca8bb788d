/**
 * The SQL operators whose state layout changed on 2026-12-07 (shared distinct views `-a2`,
 * window panes `-w2`, the bucketed band join `-b1`, a rank and a join whose rows the
 * optimizer narrowed `-n`, the window and group extreme joins `-x1` and `-t1`, a join with the
 * TopN above it inside `-r1`; later that day the window join of distinct window aggregates `-g1` and a join with a group
 * aggregate inside `-m1`; later still a join's side unique on the key kept in a value state `-u1`, and a window aggregate's panes with the windows done `-w3`) end their uid in the layout's version, so
 * that a savepoint of the earlier layout is refused naming the uid instead of being misread.
 * Each case runs a public Nexmark query to a savepoint, renames the new uid to the earlier
 * one, and expects that copy to be refused while the savepoint itself restores.
 */
import { describe, it } from "vitest";
import { sqlJob } from "../../core/sql/session.ts";
import { expectOlderLayoutRefused } from "../support/layout-refusal.ts";
import { nexmarkScript } from "./nexmark/script.ts";

/** The Nexmark query `q` over `events` events as a checkpointing SQL job named `name`. */
const job = (name: string, q: string, events: number) =>
  sqlJob(name, nexmarkScript(q, events, 10_000), (env) => {
    env.configure({ sourceBatchSize: 50 });
    env.enableCheckpointing(10);
  });

describe("a savepoint of a SQL operator's earlier state layout", () => {
  it("is refused for a window aggregate kept per window, not per pane (q5: -w2)", async () => {
    await expectOlderLayoutRefused(job("layout-q5", "q5", 200_000), "layout-q5", "w3", "");
  });

  it("is refused for a window aggregate's panes kept without the windows done, with a stored timer (q5: -w3)", async () => {
    await expectOlderLayoutRefused(job("layout-q5-done", "q5", 200_000), "layout-q5-done", "w3", "-w2");
  });

  it("is refused for COUNT(DISTINCT) calls kept one entry per call and value (q15: -a2)", async () => {
    await expectOlderLayoutRefused(job("layout-q15", "q15", 20_000), "layout-q15", "a2", "");
  });

  it("is refused for a TopN kept apart from its join, on rows unpruned (q9: -n-r1)", async () => {
    // The TopN runs inside the interval join below it (-r1), both on narrower rows (-n): a bid's channel and url are pruned.
    const refusal = /operator uid 'sql-\d+-j2' is gone and 'sql-\d+-j2-n-u1-r1' is new/;
    await expectOlderLayoutRefused(job("layout-q9", "q9", 100_000), "layout-q9", "n-u1-r1", "", refusal);
  });

  it("is refused for q5's join stored as the regular join (q5 runs the group extreme join: -t1)", async () => {
    await expectOlderLayoutRefused(job("layout-q5-join", "q5", 200_000), "layout-q5-join", "t1", "-j3");
  });

  it("is refused for q7's join stored as the bucketed interval join (q7 runs the window extreme join: -x1)", async () => {
    await expectOlderLayoutRefused(job("layout-q7", "q7", 150_000), "layout-q7", "x1", "-b1");
  });

  it("is refused for q4's join without its aggregate inside (q4 runs the MAX per auction in the join: -m1)", async () => {
    const refusal = /operator uid 'sql-\d+-j2-u1' is gone and 'sql-\d+-j2-u1-m1' is new/;
    await expectOlderLayoutRefused(job("layout-q4", "q4", 100_000), "layout-q4", "m1", "", refusal);
  });

  it("is refused for q4's join keeping an auction in a map state with a stored timer (q4's auctions are unique: -u1)", async () => {
    const refusal = /operator uid 'sql-\d+-j2-m1' is gone and 'sql-\d+-j2-u1-m1' is new/;
    await expectOlderLayoutRefused(job("layout-q4-unique", "q4", 100_000), "layout-q4-unique", "u1-m1", "-m1", refusal);
  });

  it("is refused for q8's join stored as the bucketed interval join (q8 runs the window join: -g1)", async () => {
    await expectOlderLayoutRefused(job("layout-q8", "q8", 150_000), "layout-q8", "g1", "-b1");
  });
});
