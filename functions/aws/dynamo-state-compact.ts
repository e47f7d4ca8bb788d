/**
 * Writes of {@link DynamoStateStore} that touch a partition's base: compaction
 * (under a lease item, so two compactions of one partition never interleave their
 * value writes, and a restore's reset never interleaves with one) and the base item itself.
 */

import { randomUUID } from "node:crypto";
import { PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { compactionBound, extentOf, foldBase, netChanges } from "../../core/log/compaction.ts";
import { encodeJson } from "../../core/log/payload.ts";
import type { PartitionBase } from "../../core/ports/state-store.ts";
import { batchWriteAll, mapLimit, type WriteRequest } from "./dynamo-batch.ts";
import { conditionalCall, TTL_ATTRIBUTE, transactCall } from "./dynamo-client.ts";
import { type LeaseTable, LeaseTerm, RESTORE_TOKEN, releaseLease, takeLease } from "./dynamo-lease.ts";
import {
  chunkedItems,
  LogKey,
  MAX_SEGMENT_BYTES,
  readBaseItems,
  readEntries,
  SegmentTooLargeError,
  TOMBSTONE_TTL_S,
} from "./dynamo-state-log.ts";
import { type ValueKeys, writeValues } from "./dynamo-state-values.ts";

/** What the base writes need of the store. */
export interface LogWriter extends LeaseTable {
  readonly keys: ValueKeys;
}

/**
 * Folds the segments of `task[partition]` up to `through` (only those whose outbox a
 * later segment proves sent) into the base, under the partition's compaction lease.
 * Order: keyed values, then the base, then tombstones for the folded segments that
 * would never expire (written before segments carried a TTL, or sealed); the others
 * stay as they are until their TTL (see `SEGMENT_TTL_S`). A crash in between leaves
 * a state that reads the same and that the next compaction finishes.
 */
export async function compactPartition(
  o: LogWriter,
  task: string,
  partition: number,
  pk: string,
  through: number,
): Promise<number> {
  return leased(o, pk, (term) => fold(o, task, partition, pk, through, term));
}

/**
 * Seals `task[partition]` (see `StateStore.seal`): folds through `through`, then
 * removes the TTL of every live segment left above the base (normally the last one
 * only: a fold never passes it), all under the compaction lease. Returns the base's `through`.
 */
export async function sealPartition(
  o: LogWriter,
  task: string,
  partition: number,
  pk: string,
  through: number,
): Promise<number> {
  return leased(o, pk, async (term) => {
    const base = await fold(o, task, partition, pk, through, term);
    const left = (await readEntries(o.doc, o.tables.log, pk, base)).flatMap((e) =>
      e.kind === "live" && e.expires ? [e] : [],
    );
    await mapLimit(left, 8, async (e) => {
      term.check(`seal of segment ${e.n}`);
      for (let i = 0; i < e.chunks; i++) {
        const sk = i === 0 ? LogKey.segment(e.n) : LogKey.chunk(e.n, i);
        await conditionalCall(`UpdateItem sealing segment ${e.n} of ${pk}`, () =>
          o.doc.send(
            new UpdateCommand({
              TableName: o.tables.log,
              Key: { pk, sk },
              UpdateExpression: "REMOVE #e",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeNames: { "#e": TTL_ATTRIBUTE },
            }),
          ),
        );
      }
    });
    return base;
  });
}

/**
 * Runs `work` holding the compaction lease of `pk`, renewed while it works; `work`
 * calls the term's `check` before each write (see `dynamo-lease.ts`).
 */
async function leased<T>(o: LogWriter, pk: string, work: (term: LeaseTerm) => Promise<T>): Promise<T> {
  const token = randomUUID();
  const term = new LeaseTerm(o, [pk], token, await takeLease(o, pk, token));
  try {
    return await work(term);
  } finally {
    term.stop();
    await releaseLease(o, pk, token);
  }
}

/** The fold of {@link compactPartition}, its lease held. Returns the base's `through`. */
async function fold(
  o: LogWriter,
  task: string,
  partition: number,
  pk: string,
  through: number,
  term: LeaseTerm,
): Promise<number> {
  const stored = await readBaseItems(o.doc, o.tables.log, pk);
  const from = stored.through;
  if (through <= from) return from;
  const live = (await readEntries(o.doc, o.tables.log, pk, from)).flatMap((e) => (e.kind === "live" ? [e] : []));
  const segments = live.map((e) => e.segment);
  const upTo = compactionBound({ ...extentOf(stored.base, segments), from }, through);
  if (upTo <= from) return from;
  const folded = live.filter((e) => e.n <= upTo);
  const base = foldBase(stored.base, segments, upTo);
  term.check("keyed values");
  await writeValues(o.doc, o.tables.state, o.keys, task, netChanges(folded.flatMap((e) => e.segment.changes)));
  term.check("base");
  await writeBase(o, pk, base, stored.chunks, `base of ${task}[${partition}]`);
  const exp = Math.floor(Date.now() / 1000) + TOMBSTONE_TTL_S;
  const writes: WriteRequest[] = [];
  for (const e of folded) {
    if (e.expires) continue; // it expires by itself; until then it keeps its slot taken
    writes.push({ put: { pk, sk: LogKey.segment(e.n), n: e.n, c: 1, [TTL_ATTRIBUTE]: exp } });
    for (let i = 1; i < e.chunks; i++) writes.push({ delete: { pk, sk: LogKey.chunk(e.n, i) } });
  }
  if (writes.length > 0) {
    term.check("tombstones");
    await batchWriteAll(o.doc, o.tables.log, writes);
  }
  return upTo;
}

/** Writes a partition base (one item, or a transaction of chunks), dropping chunks of an older, longer one. */
export async function writeBase(
  o: LogWriter,
  pk: string,
  base: PartitionBase,
  oldChunks: number,
  what: string,
  onlyIfAbsent = false,
): Promise<void> {
  const body = encodeJson(base);
  if (body.length > MAX_SEGMENT_BYTES) throw new SegmentTooLargeError(what, body.length);
  const items = chunkedItems(pk, LogKey.base, LogKey.baseChunk, body, { through: base.through, z: 1, at: Date.now() });
  const condition = onlyIfAbsent ? { ConditionExpression: "attribute_not_exists(pk)" } : {};
  const puts = items.map((Item, i) => ({ TableName: o.tables.log, Item, ...(i === 0 ? condition : {}) }));
  let ok = true;
  if (puts.length === 1) {
    ok = (await conditionalCall(`PutItem of the ${what}`, () => o.doc.send(new PutCommand(puts[0] as never)))).ok;
  } else {
    const r = await transactCall(`TransactWriteItems of the ${what}`, () =>
      o.doc.send(new TransactWriteCommand({ TransactItems: puts.map((Put) => ({ Put })) })),
    );
    ok = r.ok;
  }
  if (!ok) throw new RiffleError("partition-not-empty", `${what}: the partition already has a base`);
  const stale: WriteRequest[] = [];
  for (let i = items.length; i < oldChunks; i++) stale.push({ delete: { pk, sk: LogKey.baseChunk(i) } });
  if (stale.length > 0) await batchWriteAll(o.doc, o.tables.log, stale);
}

/**
 * Runs `rewrite` (a restore's reset of a task's logs and values) holding the
 * compaction leases of `pks`: a compaction in flight ends first, and none starts
 * until `rewrite` is done (it finds the lease taken, and skips). Otherwise a
 * compaction that read the old log would write its values and base into the new one.
 * Waits up to `waitMs` for a compaction to end; a restore takes over the leases of
 * an earlier attempt of a restore that died (restores of a job are serialized by its record).
 */
export async function withoutCompaction<T>(
  o: LogWriter,
  pks: readonly string[],
  waitMs: number,
  rewrite: () => Promise<T>,
): Promise<T> {
  const token = `${RESTORE_TOKEN}${randomUUID()}`;
  const deadline = Date.now() + waitMs;
  const held: string[] = [];
  // Renews the leases taken so far while it waits for the others, and while the reset runs.
  const term = new LeaseTerm(o, held, token, Date.now() + o.leaseMs);
  try {
    for (const pk of [...pks].sort()) {
      for (;;) {
        try {
          await takeLease(o, pk, token);
          break;
        } catch (e) {
          if (!(e instanceof RiffleError && e.reason === "compaction-busy") || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      held.push(pk);
    }
    term.check("reset");
    return await rewrite();
  } finally {
    term.stop();
    await Promise.allSettled(held.map((pk) => releaseLease(o, pk, token)));
  }
}
