/**
 * The dashboard's client of the riffle HTTP API: every request carries the key the
 * user entered, which lives in session storage (never in a URL), and the live feed
 * is read as Server-Sent Events over `fetch` (EventSource cannot send a header).
 */

import type { DeadLetters, JobStatus } from "../../core/control/job-control.ts";
import type { Plan } from "../../core/graph/plan.ts";
import type { CheckpointManifest, SavepointInfo } from "../../core/ports/checkpoint-store.ts";

export type { CheckpointManifest, DeadLetters, JobStatus, Plan, SavepointInfo };

const KEY = "riffle.apiKey";

/** The key entered on this tab, if any. */
export function savedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Keeps `key` for this tab only. */
export function saveKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

/** Forgets the key (a refused key, or log out). */
export function clearKey(): void {
  sessionStorage.removeItem(KEY);
}

/** An API answer other than 2xx, with the API's error code and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { "x-api-key": savedKey() ?? "" };
  if (json) h["content-type"] = "application/json";
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  return new ApiError(res.status, body.error ?? "error", body.message ?? `${res.status} ${res.statusText}`);
}

/** GETs (or POSTs `body` to) an API path and decodes its JSON answer. */
export async function call<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { headers: headers(false) }
      : { method: "POST", headers: headers(true), body: JSON.stringify(body) };
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** Path of a job's route. */
export function jobPath(job: string, rest = ""): string {
  return `/jobs/${encodeURIComponent(job)}${rest}`;
}

/** One frame of the live feed (`GET /jobs/{job}/events`). */
export interface Snapshot {
  readonly at: number;
  readonly status: JobStatus;
  readonly checkpoints: readonly CheckpointManifest[];
  readonly savepoints: readonly SavepointInfo[];
  readonly deadLetters: {
    readonly total: number;
    readonly records: DeadLetters["records"];
    readonly envelopes: number;
  };
}

/** Parses the SSE frames in `text`; returns the unparsed rest and the `retry` delay if one came. */
export function parseFrames(
  text: string,
  onEvent: (event: string, data: string) => void,
): { rest: string; retry?: number } {
  const frames = text.split("\n\n");
  const rest = frames.pop() ?? "";
  let retry: number | undefined;
  for (const frame of frames) {
    let event = "message";
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      const i = line.indexOf(":");
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
    }
    if (data.length > 0) onEvent(event, data.join("\n"));
  }
  return retry === undefined ? { rest } : { rest, retry };
}

/**
 * Follows a job's live feed: calls `onSnapshot` for every snapshot, reconnecting
 * after the server's `retry` delay, and `onError` on a failed request (401 stops).
 * Returns the function that stops following.
 */
export function follow(job: string, onSnapshot: (s: Snapshot) => void, onError: (e: ApiError) => void): () => void {
  const stop = new AbortController();
  let delay = 1000;
  const once = async (): Promise<boolean> => {
    const res = await fetch(jobPath(job, "/events"), { headers: headers(false), signal: stop.signal });
    if (!res.ok || res.body === null) {
      const e = await failure(res);
      onError(e);
      return e.status !== 401 && e.status !== 403;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      const parsed = parseFrames(buffer + value, (event, data) => {
        if (event === "snapshot") onSnapshot(JSON.parse(data) as Snapshot);
      });
      buffer = parsed.rest;
      if (parsed.retry !== undefined) delay = parsed.retry;
    }
  };
  const loop = async () => {
    while (!stop.signal.aborted) {
      const again = await once().catch((e: unknown) => {
        if (!stop.signal.aborted) onError(new ApiError(0, "network", String(e)));
        return true;
      });
      if (!again) return;
      await new Promise((r) => setTimeout(r, delay));
    }
  };
  void loop();
  return () => stop.abort();
}
