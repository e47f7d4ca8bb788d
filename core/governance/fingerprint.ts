/**
 * Traceable exports: a query result's fingerprint, SHA-256 over who read, what they
 * asked, the checkpoint read and the rows returned (in a canonical order). It is sent
 * with the result and kept in the audit, so a leaked export can be matched to the
 * access that produced it.
 */
import { createHash } from "node:crypto";

/** The rows in a canonical order (by their JSON), so the same result always has the same fingerprint. */
export function canonicalRows<T>(rows: readonly T[]): T[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r);
}

/** The hex SHA-256 fingerprint of a result. */
export function resultFingerprint(
  principal: string,
  query: string,
  checkpoint: number | undefined,
  rows: readonly unknown[],
): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([principal, query, checkpoint ?? null]));
  for (const r of canonicalRows(rows)) h.update(`\n${JSON.stringify(r)}`);
  return h.digest("hex");
}
