// Shared by the nexmark generator tests.

import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import type { NexmarkConfig, NexmarkEvent } from "../../core/nexmark/model.ts";

export const BASE = Date.UTC(2015, 6, 15);

export function events(n: number, config: NexmarkConfig, from = 0): NexmarkEvent[] {
  const out: NexmarkEvent[] = [];
  for (let e = from; e < from + n; e++) out.push(nexmarkEvent(e, config));
  return out;
}
