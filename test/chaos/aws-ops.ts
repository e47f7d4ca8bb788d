/**
 * What an operator does to a job on `riffle dev --runtime aws-local`, as the
 * chaos driver's operations: ingest over HTTP (poison records too), savepoints
 * (and a reused name), restores, savepoint + restore + ingest at once, SIGKILL or
 * SIGTERM and restart, poison fixes and dead-letter replays.
 */

import { rmSync, writeFileSync } from "node:fs";
import type { AwsWorld } from "./aws-world.ts";
import type { ChaosRecord } from "./dataset.ts";
import type { OpEntry } from "./report.ts";

/** One kind of operation of the aws-local driver. */
export interface AwsOp {
  readonly name: string;
  readonly weight: (w: AwsWorld) => number;
  readonly run: (w: AwsWorld, e: OpEntry) => Promise<void>;
}

/** Ingests 1-3 requests at once: normal keys, or a poison record under a key of its own. */
async function ingestSome(w: AwsWorld): Promise<string> {
  const requests = Array.from({ length: w.int(1, 3) }, () => {
    if (w.rng() < 0.2) {
      const id = w.nextId++;
      const rec: ChaosRecord = { key: `x${id}`, id, poison: true };
      return [rec.key, [rec]] as const;
    }
    const key = w.normalKeys[w.int(0, w.normalKeys.length - 1)] as string;
    return [key, Array.from({ length: w.int(1, 6) }, () => ({ key, id: w.nextId++ }))] as const;
  });
  const out = await Promise.all(requests.map(([key, recs]) => w.ingest(key, recs)));
  return out.join(", ");
}

/** Takes a new savepoint; records it with the output committed before the request. */
async function savepoint(w: AwsWorld): Promise<string> {
  const name = `sp${w.nextName++}`;
  const snapshot = await w.rows();
  const r = await w.api("/savepoints", { name }).catch(async (e: Error) => {
    w.j.violate(`savepoint ${name}: no answer (${e.message})`, await w.describe());
    return { status: 0, body: {} as Record<string, unknown> };
  });
  if (r.status === 201) {
    const checkpoint = Number(r.body.checkpoint);
    const taken = { snapshot, gen: undefined as number | undefined, checkpoint };
    w.savepoints.set(name, taken);
    const list = await w.api("/checkpoints");
    const manifests = (list.body.checkpoints ?? []) as { id: number; generation: number }[];
    taken.gen = manifests.find((m) => m.id === checkpoint)?.generation;
    return `${name}: 201 at checkpoint ${checkpoint} (generation ${taken.gen})`;
  }
  w.burned.add(name);
  if (r.status !== 0 && r.status !== 409 && r.status !== 503)
    w.j.violate(`savepoint ${name} answered ${r.status} ${JSON.stringify(r.body)}`, await w.explain(r.body));
  return `${name}: ${r.status} ${String(r.body.message ?? "")}`;
}

function candidates(w: AwsWorld): string[] {
  return [...w.savepoints]
    .filter(([n, s]) => s.gen !== undefined && !w.restored.has(n) && !w.burned.has(n))
    .map(([n]) => n);
}

/** Restores a savepoint never restored before. */
async function restore(w: AwsWorld, name: string): Promise<string> {
  w.restored.add(name);
  const r = await w.api("/restore", { savepoint: name });
  // 202: begun but interrupted; riffle finishes it by itself, so it counts as done.
  if (r.status === 200 || r.status === 202) {
    w.restores.set(Number(r.body.generation), name);
    w.restoreOps.push(w.j.ops.length - 1);
    return `restore ${name}: ${r.status === 202 ? "202 (finishing) " : ""}generation ${r.body.generation}`;
  }
  w.j.violate(`restore of savepoint ${name} answered ${r.status} ${JSON.stringify(r.body)}`, await w.explain(r.body));
  return `restore ${name}: ${r.status}`;
}

const pick = <T>(w: AwsWorld, xs: readonly T[]): T => xs[w.int(0, xs.length - 1)] as T;

const ops: AwsOp[] = [
  {
    name: "ingest",
    weight: () => 5,
    run: async (w, e) => {
      e.outcome = await ingestSome(w);
    },
  },
  {
    name: "wait",
    weight: () => 2,
    run: async (w, e) => {
      const ms = w.int(200, 1500);
      e.detail = `${ms} ms`;
      await new Promise((r) => setTimeout(r, ms));
      e.outcome = "waited";
    },
  },
  {
    name: "savepoint",
    weight: () => 2,
    run: async (w, e) => {
      e.outcome = await savepoint(w);
    },
  },
  {
    name: "savepoint-reuse",
    weight: (w) => (w.savepoints.size > 0 ? 1 : 0),
    run: async (w, e) => {
      const name = pick(w, [...w.savepoints.keys()]);
      const r = await w.api("/savepoints", { name });
      e.detail = name;
      e.outcome = `${r.status} ${String(r.body.message ?? "")}`;
      if (r.status !== 409 || !/already has a savepoint named/.test(String(r.body.message)))
        w.j.violate(`reusing savepoint name '${name}' was not refused with 409: ${r.status} ${JSON.stringify(r.body)}`);
    },
  },
  {
    name: "restore",
    weight: (w) => (candidates(w).length > 0 ? 2 : 0),
    run: async (w, e) => {
      e.outcome = await restore(w, pick(w, candidates(w)));
    },
  },
  {
    name: "savepoint-restore",
    weight: () => 1.5,
    run: async (w, e) => {
      const taken = await savepoint(w);
      const name = /^(sp\d+): 201/.exec(taken)?.[1];
      e.detail = "take a savepoint, then restore it at once";
      e.outcome = name && w.savepoints.get(name)?.gen !== undefined ? `${taken} | ${await restore(w, name)}` : taken;
    },
  },
  {
    name: "concurrent",
    weight: () => 2,
    run: async (w, e) => {
      const c = candidates(w);
      const restoring = c.length > 0 ? pick(w, c) : undefined;
      const all = [savepoint(w), ingestSome(w), ...(restoring ? [restore(w, restoring)] : [])];
      e.detail = `savepoint + ingest${restoring ? ` + restore ${restoring}` : ""} at once`;
      e.outcome = (await Promise.all(all)).join(" | ");
    },
  },
  {
    name: "kill",
    weight: () => 0.8,
    run: async (w, e) => {
      await w.stop("SIGKILL");
      await w.start();
      e.outcome = "killed and restarted";
    },
  },
  {
    name: "term",
    weight: () => 0.6,
    run: async (w, e) => {
      const exit = await w.stop("SIGTERM");
      e.outcome = exit ? `exit ${exit.code ?? exit.signal}; restarted` : "did not stop within 30 s";
      if (exit?.code !== 0) w.j.violate(`riffle dev did not stop cleanly on SIGTERM: ${e.outcome}`);
      await w.start();
    },
  },
  {
    name: "poison-fix",
    weight: (w) => (w.fixed() ? 0 : 1),
    run: async (w, e) => {
      writeFileSync(w.marker, "");
      e.outcome = "poison records now succeed";
    },
  },
  {
    name: "poison-break",
    weight: (w) => (w.fixed() ? 0.6 : 0),
    run: async (w, e) => {
      rmSync(w.marker, { force: true });
      e.outcome = "poison records fail again";
    },
  },
  {
    name: "poison-replay",
    weight: () => 1.2,
    run: async (w, e) => {
      e.detail = "a poison record, then replay its dead letter before the fix";
      e.outcome = await poisonAndReplay(w, e.i);
    },
  },
  {
    name: "dlq-replay",
    weight: () => 2.5,
    run: async (w, e) => {
      e.outcome = await replayCurrent(w, e.i);
    },
  },
];

/**
 * A poison record while the poison is not fixed: waits for its dead letter and
 * replays it at once, so that it fails again (and must be set aside again).
 */
async function poisonAndReplay(w: AwsWorld, op: number): Promise<string> {
  rmSync(w.marker, { force: true });
  const id = w.nextId++;
  const key = `x${id}`;
  await w.ingest(key, [{ key, id, poison: true }]);
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const letters = (await w.api("/dlq")).body.records as { id: string; value?: { id?: number } }[];
    const letter = letters.find((l) => l.value?.id === id);
    if (letter) {
      const r = await w.api("/dlq/replay", { ids: [letter.id] });
      w.replayed.set(letter.id, op);
      return `${key} dead-lettered as ${letter.id}, replayed (poison not fixed): ${r.status} ${JSON.stringify(r.body)}`;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return `${key}: no dead letter within 20 s`;
}

/** Replays the dead letters of the current generation not replayed yet (older ones may be stale). */
async function replayCurrent(w: AwsWorld, op: number): Promise<string> {
  const { generation } = await w.status();
  const letters = (await w.api("/dlq")).body.records as { id: string; replayedAt?: number }[];
  const ids = letters.filter((l) => l.replayedAt === undefined && genOf(l.id) === generation).map((l) => l.id);
  if (ids.length === 0) return "nothing to replay";
  const r = await w.api("/dlq/replay", { ids });
  if (r.status !== 200 || r.body.replayed !== ids.length)
    w.j.violate(
      `replay of ${ids.length} dead letter(s) answered ${r.status} ${JSON.stringify(r.body)}`,
      await w.explain(r.body),
    );
  for (const id of ids) w.replayed.set(id, op);
  return `replayed ${ids.length} of generation ${generation}`;
}

/** The generation of a dead letter id (`task#partition#generation#segment#index`). */
function genOf(id: string): number {
  return Number(id.split("#")[2]);
}

/** Every aws-local operation. */
export const AWS_OPS: readonly AwsOp[] = ops;

/** Picks an operation by weight. */
export function pickAwsOp(w: AwsWorld): AwsOp {
  const weighted = ops.map((op) => [op, op.weight(w)] as const).filter(([, x]) => x > 0);
  let r = w.rng() * weighted.reduce((a, [, x]) => a + x, 0);
  for (const [op, x] of weighted) {
    r -= x;
    if (r < 0) return op;
  }
  return (weighted.at(-1) as readonly [AwsOp, number])[0];
}
