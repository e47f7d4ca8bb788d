/**
 * Picks the implementation of a window: the incremental time windows of
 * `operators/window.ts`, or, with a custom trigger or evictor (and for global
 * windows, which only a trigger fires), `operators/trigger-window.ts`.
 */

import { JobDefinitionError } from "../errors.ts";
import type { Key } from "../keys.ts";
import { triggerWindowFunction } from "../operators/trigger-window.ts";
import { type WindowSpec, windowFunction } from "../operators/window.ts";
import type { KeyedProcessFunction } from "./functions.ts";
import type { StateSpec } from "./state.ts";
import { EventTimeTrigger, type Evictor, ProcessingTimeTrigger, type Trigger } from "./triggers.ts";

/** The default trigger of global windows: never fires. */
const NEVER: Trigger<unknown> = {
  onElement: () => "CONTINUE",
  onEventTime: () => "CONTINUE",
  onProcessingTime: () => "CONTINUE",
};

/** A window's settings, with its trigger and evictor when the user set them. */
export interface WindowOptions extends WindowSpec {
  readonly trigger: Trigger<unknown> | undefined;
  readonly evictor: Evictor<unknown> | undefined;
}

/** The keyed process function of a window. */
export function windowProcessFunction(o: WindowOptions): KeyedProcessFunction<unknown, Key, StateSpec, unknown> {
  const custom = o.trigger !== undefined || o.evictor !== undefined;
  if (custom && o.assigner.kind === "session") {
    throw new JobDefinitionError("custom triggers and evictors are not supported on session windows (they merge)");
  }
  if (!custom && o.assigner.kind !== "global") return windowFunction(o);
  const byDefault =
    o.assigner.kind === "global"
      ? NEVER
      : o.assigner.time === "processing"
        ? ProcessingTimeTrigger.create()
        : EventTimeTrigger.create();
  return triggerWindowFunction({ ...o, trigger: o.trigger ?? byDefault, evictor: o.evictor });
}
