/**
 * Names a slice for the idempotency key of a remote call: the partition (its key
 * groups or index) and a digest of the envelopes it consumed, so a retried slice
 * (same inputs, same state) gets the same name.
 */

import { createHash } from "node:crypto";

/** The envelopes' identities: a channel and a sequence number each. */
export interface EnvelopeId {
  readonly from?: string;
  readonly seq?: number;
}

/** `partition/digest` of the slice's envelopes. */
export function sliceSite(partition: string, envelopes: readonly EnvelopeId[]): string {
  const digest = createHash("sha256")
    .update(envelopes.map((e) => `${e.from}:${e.seq}`).join(","))
    .digest("base64url")
    .slice(0, 16);
  return `${partition}/${digest}`;
}
