/**
 * The end of an aws-local sequence: let the job drain, ask every key for its
 * count (an end record per key: a `fin` row that does not count itself), replay
 * the dead letters of poison keys still at 0, ask again, then run the oracle
 * over every generation of the committed output.
 */

import type { GenRow } from "./aws-output.ts";
import type { AwsWorld } from "./aws-world.ts";
import { checkEras, checkFinal, type EraInput, lastCounts, type OracleInput, type SavepointSeen } from "./oracle.ts";

/** A dead letter as `GET /jobs/{job}/dlq` lists it. */
interface Letter {
  readonly id: string;
  readonly replayedAt?: number;
  readonly value?: { readonly key?: string; readonly id?: number };
}

/** Polls `cond` every 500 ms until it holds; false after `ms`. */
async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Waits until no task has a backlog and the output stops growing. */
async function drain(w: AwsWorld): Promise<boolean> {
  let last = -1;
  const ok = await until(async () => {
    const st = await w.status();
    const n = (await w.rows()).length;
    const idle = Object.values(st.backlog ?? {}).every((b) => b === 0) && n === last;
    last = n;
    return idle;
  }, patience(w));
  if (!ok) w.j.violate(`the job did not drain within ${patience(w) / 1000} s`, await w.describe());
  return ok;
}

const patience = (w: AwsWorld) => w.cfg.patienceMs ?? 60_000;

/** A check that turns true once no checkpoint has completed for half the patience (at most 20 s), or a third of a longer one. */
function stallDetector(w: AwsWorld): () => Promise<boolean> {
  let last: number | undefined;
  let since = Date.now();
  return async () => {
    const { lastCheckpoint } = (await w.api("")).body as { lastCheckpoint?: { id: number } };
    if (lastCheckpoint?.id !== last) {
      last = lastCheckpoint?.id;
      since = Date.now();
    }
    return Date.now() - since > Math.max(Math.min(20_000, patience(w) / 2), patience(w) / 3);
  };
}

/** Ingests an end record for each of `keys`; waits for their fin rows. Returns each key's fin. */
async function probe(w: AwsWorld, keys: readonly string[]): Promise<Map<string, number>> {
  const ids = new Map<number, string>();
  await Promise.all(
    keys.map((key) => {
      const id = w.nextId++;
      ids.set(id, key);
      w.probes.set(key, [...(w.probes.get(key) ?? []), id]);
      return w.ingest(key, [{ key, id, end: true }]);
    }),
  );
  const fins = new Map<string, number>();
  const stalled = stallDetector(w);
  const ok = await until(async () => {
    for (const r of await w.rows()) if (r.fin !== undefined && ids.has(r.id)) fins.set(r.key, r.fin);
    return fins.size === ids.size || (await stalled());
  }, patience(w));
  if (!ok || fins.size < ids.size) {
    const missing = [...ids.values()].filter((k) => !fins.has(k));
    const what = `no count committed for ${missing.length} probed key(s) (${missing.slice(0, 5).join(", ")})`;
    w.j.violate(what, await w.describe());
  }
  return fins;
}

/** Replays, for each poison key at 0, its newest dead letter not replayed; returns the keys replayed. */
async function replayZeros(w: AwsWorld, fins: ReadonlyMap<string, number>): Promise<string[]> {
  const letters = (await w.api("/dlq")).body.records as Letter[];
  const newest = new Map<string, string>();
  for (const l of letters) {
    const key = l.value?.key;
    if (!key || l.replayedAt !== undefined || fins.get(key) !== 0) continue;
    const have = newest.get(key);
    if (!have || letterOrder(l.id, have) > 0) newest.set(key, l.id);
  }
  if (newest.size === 0) return [];
  const r = await w.api("/dlq/replay", { ids: [...newest.values()] });
  if (r.status !== 200) w.j.violate(`final replay answered ${r.status} ${JSON.stringify(r.body)}`);
  for (const id of newest.values()) w.replayed.set(id, w.j.ops.length - 1);
  return [...newest.keys()];
}

/** Compares two dead-letter ids by generation, segment and index. */
function letterOrder(a: string, b: string): number {
  const x = a.split("#").slice(2).map(Number);
  const y = b.split("#").slice(2).map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The final phase; see the module comment. */
export async function finalProbe(w: AwsWorld): Promise<void> {
  const d = w.j.begin("final-drain");
  d.outcome = (await drain(w)) ? "drained" : "still busy";
  if (d.outcome !== "drained") return verify(w);
  const keys = [...w.expected().keys()];
  const p = w.j.begin("final-probe", `${keys.length} keys`);
  const fins = await probe(w, keys);
  p.outcome = `${fins.size} counts`;
  const r = w.j.begin("final-replay", "newest dead letter of each poison key still at 0");
  const replayed = await replayZeros(w, fins);
  r.outcome = `${replayed.length} replayed`;
  if (replayed.length > 0) {
    await until(async () => {
      const rows = await w.rows();
      return replayed.every((k) => rows.some((x) => x.key === k && x.n !== undefined && x.gen === maxGen(rows)));
    }, 30_000);
    const again = w.j.begin("final-probe", `${replayed.length} replayed keys again`);
    again.outcome = `${(await probe(w, replayed)).size} counts`;
  }
  await verify(w);
}

const maxGen = (rows: readonly GenRow[]) => rows.reduce((a, r) => Math.max(a, r.gen), 1);

/** The oracle over every generation. */
async function verify(w: AwsWorld): Promise<void> {
  const rows = await w.rows();
  const { generation } = await w.status();
  const top = Math.max(generation, maxGen(rows));
  const eras: EraInput[] = [];
  for (let g = 1; g <= top; g++) {
    const sp = w.restores.get(g);
    eras.push({
      label: `generation ${g}${sp ? ` (restore '${sp}')` : g > 1 ? " (failover)" : ""}`,
      start: g === 1 ? { kind: "initial" } : sp ? { kind: "restore", savepoint: sp } : { kind: "failover" },
      rows: rows.filter((r) => r.gen === g),
    });
  }
  const savepoints = new Map<string, SavepointSeen>();
  for (const [name, s] of w.savepoints) {
    if (s.gen === undefined) continue;
    savepoints.set(name, { era: s.gen - 1, atRequest: lastCounts(s.snapshot.filter((r) => r.gen === s.gen)) });
  }
  const input: OracleInput = { expected: w.expected(), eras, savepoints, finEnds: false };
  const verdict = checkEras(input);
  for (const v of verdict.violations) w.j.violate(v);
  const letters = (await w.api("/dlq")).body.records as Letter[];
  const pending = new Set(letters.filter((l) => l.replayedAt === undefined).map((l) => Number(l.value?.id)));
  const final = checkFinal(input, verdict, pending);
  for (const v of final.violations) w.j.violate(`${v}${lostHint(w, v, letters)}`);
  if (final.pendingKeys > 0)
    w.j.note(`aws-local: ${final.pendingKeys} poison key(s) still pending after the final replay`);
}

/** For a lost poison key: its dead letters and replays, and whether a restore came after its last replay. */
function lostHint(w: AwsWorld, v: string, letters: readonly Letter[]): string {
  const key = /key (x\d+)/.exec(v)?.[1];
  if (!key) return "";
  const mine = letters.filter((l) => l.value?.key === key);
  const ids = mine.map((l) => `${l.id}${w.replayed.has(l.id) ? ` (replayed at #${w.replayed.get(l.id)})` : ""}`);
  const last = Math.max(-1, ...mine.map((l) => w.replayed.get(l.id) ?? -1));
  const restoredAfter = last >= 0 && w.restoreOps.some((op) => op > last);
  return ` [dead letters: ${ids.join(", ") || "none"}${restoredAfter ? "; a restore after its last replay" : ""}]`;
}
