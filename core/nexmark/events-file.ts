/**
 * A JSON-lines file of Nexmark events (as `riffle nexmark generate` writes it),
 * read and checked in full before a job runs: a malformed line is a usage error
 * naming the file and the line, not a source that fails on every restart.
 */

import { readFileSync } from "node:fs";
import { describeCause, UsageError } from "../errors.ts";
import type { NexmarkEvent, NexmarkEventType } from "./model.ts";

/** Numeric fields every event of a kind must have (the ones the queries compute with). */
const NUMERIC_FIELDS: Record<NexmarkEventType, readonly string[]> = {
  person: ["id", "dateTime"],
  auction: ["id", "initialBid", "reserve", "dateTime", "expires", "seller", "category"],
  bid: ["auction", "bidder", "price", "dateTime"],
};

/**
 * The events of `path`, one per non-empty line, in file order. Throws a
 * {@link UsageError} when the file cannot be read, or naming the first line that is
 * not JSON or not a Nexmark event.
 */
export function readNexmarkEvents(path: string): NexmarkEvent[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const missing = (cause as { code?: string }).code === "ENOENT";
    throw new UsageError(
      missing ? `cannot find input file '${path}'` : `cannot read input file '${path}': ${describeCause(cause)}`,
      { cause },
    );
  }
  const events: NexmarkEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new UsageError(`input file '${path}' line ${i + 1} is not JSON: ${describeCause(cause)}`, { cause });
    }
    const problem = eventProblem(value);
    if (problem) throw new UsageError(`input file '${path}' line ${i + 1} is not a Nexmark event: ${problem}`);
    events.push(value as NexmarkEvent);
  }
  return events;
}

/** Why `value` is not a Nexmark event, or undefined when it is one. */
function eventProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a JSON object";
  const e = value as Record<string, unknown>;
  const fields = Object.hasOwn(NUMERIC_FIELDS, String(e.type)) ? NUMERIC_FIELDS[e.type as NexmarkEventType] : undefined;
  if (!fields) {
    return `"type" must be "person", "auction" or "bid", got ${JSON.stringify(e.type) ?? "nothing"}`;
  }
  const bad = fields.find((f) => typeof e[f] !== "number" || !Number.isFinite(e[f]));
  return bad === undefined ? undefined : `a ${e.type} needs a number "${bad}"`;
}
