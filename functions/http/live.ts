/**
 * The dashboard's live feed, `GET /jobs/{job}/events`: a Server-Sent Events
 * response holding one `snapshot` event (the job's status, recent checkpoints,
 * savepoints and dead letters) and a `retry` delay. An SSE client reconnects after
 * that delay, so the page updates about once a second without reloading, through
 * API Gateway and Lambda as well as the local server: neither has to hold a
 * connection open.
 */

import type { JobControl } from "../../core/control/job-control.ts";
import type { HttpResponse } from "./errors.ts";

/** How long a client waits before asking for the next snapshot, in ms. */
export const LIVE_RETRY_MS = 1000;
/** Most recent checkpoints a snapshot carries. */
export const LIVE_CHECKPOINTS = 60;
/** Most recent dead letters a snapshot carries. */
export const LIVE_DEAD_LETTERS = 200;

/** Reads one snapshot of `control` and frames it as an SSE response. */
export async function liveSnapshot(control: JobControl, now: number = Date.now()): Promise<HttpResponse> {
  const [status, checkpoints, savepoints, dlq] = await Promise.all([
    control.status(),
    control.checkpoints(),
    control.listSavepoints(),
    control.deadLetters(),
  ]);
  const snapshot = {
    at: now,
    status,
    checkpoints: checkpoints.slice(-LIVE_CHECKPOINTS),
    savepoints,
    deadLetters: {
      total: dlq.records.length,
      records: dlq.records.slice(-LIVE_DEAD_LETTERS),
      envelopes: dlq.envelopes.length,
    },
  };
  // JSON.stringify never emits a raw newline, so the snapshot is one `data:` line.
  const body = `retry: ${LIVE_RETRY_MS}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
  return {
    statusCode: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    body,
  };
}
