/**
 * Partition reports on a runtime whose runners the API cannot see (AWS, aws-local):
 * each partition puts its report in the ack of every checkpoint it ends
 * (`core/runtime/partition-stats.ts`), so the reports are the acks of the newest
 * completed checkpoint and of the newest one in flight. That is one query per
 * checkpoint (two at most), never a read per partition.
 */

import type { CheckpointStore, JobRecord, PartitionReport } from "../ports/checkpoint-store.ts";

/** The checkpoints whose acks carry the freshest reports: the last completed, and the newest in flight. */
export function reportCheckpoints(record: JobRecord): number[] {
  const pending = (record.pending ?? [])
    .filter((p) => p.generation === record.generation && p.id > record.lastCompleted)
    .map((p) => p.id);
  const newest = pending.length > 0 ? Math.max(...pending) : 0;
  return [record.lastCompleted, newest].filter((id) => id > 0);
}

/**
 * The newest report of each partition of the running parallelism, from the acks of
 * {@link reportCheckpoints}, in task then partition order.
 */
export async function ackedReports(
  store: CheckpointStore,
  record: JobRecord,
  parallelism: Readonly<Record<string, number>>,
): Promise<PartitionReport[]> {
  const newest = new Map<string, PartitionReport>();
  for (const id of reportCheckpoints(record)) {
    for (const ack of await store.acks(record.job, id)) {
      const r = ack.report;
      if (r === undefined || ack.partition >= (parallelism[ack.task] ?? 0)) continue;
      const key = `${ack.task}#${ack.partition}`;
      const had = newest.get(key);
      if (had === undefined || r.segment >= had.segment) newest.set(key, r);
    }
  }
  const order = Object.keys(parallelism);
  return [...newest.values()].sort(
    (a, b) => order.indexOf(a.task) - order.indexOf(b.task) || a.partition - b.partition,
  );
}

/** Records in and out per task: the sums of its partitions' reports. */
export function recordsByTask(
  reports: readonly PartitionReport[],
): Record<string, { readonly in: number; readonly out: number }> {
  const out: Record<string, { in: number; out: number }> = {};
  for (const r of reports) {
    const t = out[r.task] ?? { in: 0, out: 0 };
    t.in += r.recordsIn;
    t.out += r.recordsOut;
    out[r.task] = t;
  }
  return out;
}
