// Builders shared by the planner tests.

import {
  type BuildOptions,
  buildGraph,
  defineJob,
  type StreamExecutionEnvironment,
} from "../../core/api/environment.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan, TaskPlan } from "../../core/graph/plan.ts";
import { planJob } from "../../core/graph/planner.ts";

export type Build = (env: StreamExecutionEnvironment) => void;

export function graphOf(build: Build, options?: BuildOptions): JobGraph {
  return buildGraph(defineJob("plan-test", build), options);
}

export function planOf(build: Build, options?: BuildOptions): Plan {
  return planJob(graphOf(build, options));
}

export function task(plan: Plan, id: string): TaskPlan {
  const t = plan.tasks.find((x) => x.id === id);
  if (!t) throw new Error(`no task '${id}' in [${plan.tasks.map((x) => x.id).join(", ")}]`);
  return t;
}

export const kinds = (t: TaskPlan) => t.operators.map((o) => o.kind);
export const gen = (env: StreamExecutionEnvironment) => env.fromGenerator((i) => i, { count: 10 });
