/**
 * Helpers of the stack tests: an offline synthesis in a throw-away SST project root
 * (a copy of the repository's `sst.config.ts` and `package.json`, so test files
 * running in parallel never share SST's `.sst/` work files), and readers of the
 * CloudFormation template: resources by type, and a resolver of the intrinsic
 * functions (`Ref`, `Fn::GetAtt`, `Fn::Join`) the riffle stacks use.
 */

import { copyFileSync, cpSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../stacks/bundle.ts";
import { type SynthesizedJob, synthesizeJob } from "../../stacks/synth.ts";
import type { ResolvedStatement } from "./iam-recorder.ts";

/**
 * Loads a copy of a Lambda asset's `entry.mjs` as a module instance of its own (one
 * per function, as one container each), with Node's own loader (`require` of an ES
 * module): vitest does not transform it, so it runs as is, as on Lambda.
 */
export function loadAsset(assetDir: string, instance: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), `riffle-fn-${instance.replace(/[^A-Za-z0-9]/g, "")}-`));
  cpSync(assetDir, dir, { recursive: true });
  return createRequire(import.meta.url)(join(dir, "entry.mjs"));
}

/** One resource of a template. */
export interface Resource {
  readonly id: string;
  readonly type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON.
  readonly props: Record<string, any>;
}

/** A fresh SST project root: copies of the repository's `sst.config.ts` and `package.json`. */
export function projectRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "riffle-sst-root-"));
  for (const f of ["sst.config.ts", "package.json"]) copyFileSync(join(ROOT, f), join(root, f));
  return root;
}

/** Synthesizes `jobFile` offline, as `npm run synth` does, in a fresh project root. */
export function synthForTest(
  jobFile: string,
  o: { stage?: string; parallelism?: number } = {},
): Promise<SynthesizedJob> {
  const root = projectRoot();
  return synthesizeJob({
    jobFile: join(ROOT, jobFile),
    stage: o.stage ?? "test",
    root,
    outDir: join(root, "cdk.out"),
    ...(o.parallelism === undefined ? {} : { parallelism: o.parallelism }),
  });
}

/** Every resource of `type`. */
export function resources(s: SynthesizedJob, type: string): Resource[] {
  return Object.entries(s.template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => ({ id, type: r.Type, props: r.Properties ?? {} }));
}

/** The resource with logical id `id`. */
export function resource(s: SynthesizedJob, id: string): Resource {
  const r = s.template.Resources[id];
  if (!r) throw new Error(`template has no resource '${id}'`);
  return { id, type: r.Type, props: r.Properties ?? {} };
}

/** The logical id `value` refers to with `Ref` or `Fn::GetAtt`, if it is such a reference. */
export function refTarget(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === "string") return v.Ref;
  const att = v["Fn::GetAtt"];
  if (Array.isArray(att) && typeof att[0] === "string") return att[0];
  return undefined;
}

/** How {@link resolveIntrinsics} turns a reference into a value. */
export type RefResolver = (logicalId: string, attribute: string | undefined) => string;

/**
 * `value` with every `Ref`, `Fn::GetAtt` and `Fn::Join` replaced by plain strings.
 * @throws Error naming any other intrinsic function (the stacks use no other).
 */
export function resolveIntrinsics(value: unknown, ref: RefResolver): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, ref));
  if (value === null || typeof value !== "object") return value;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === "Ref") {
    const id = v.Ref as string;
    if (id === "AWS::Partition") return "aws";
    if (id === "AWS::Region") return "us-east-1";
    if (id === "AWS::AccountId") return "123456789012";
    return ref(id, undefined);
  }
  if (keys.length === 1 && keys[0] === "Fn::GetAtt") {
    const [id, attribute] = v["Fn::GetAtt"] as [string, string];
    return ref(id, attribute);
  }
  if (keys.length === 1 && keys[0] === "Fn::Join") {
    const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map((p) => String(resolveIntrinsics(p, ref))).join(sep);
  }
  const other = keys.find((k) => k.startsWith("Fn::"));
  if (other) throw new Error(`unexpected intrinsic ${other} in ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveIntrinsics(x, ref)]));
}

/** The role (export of `entry.mjs`) a riffle function runs, from its handler `entry.<role>`; undefined for other functions. */
export function roleOf(fn: Resource): string | undefined {
  const handler = fn.props.Handler;
  return typeof handler === "string" && handler.startsWith("entry.") ? handler.slice("entry.".length) : undefined;
}

/** Every statement of every IAM policy in the template (inline role policies included). */
export function policyStatements(s: SynthesizedJob): { policy: string; roles: string[]; statement: Statement }[] {
  const out: { policy: string; roles: string[]; statement: Statement }[] = [];
  for (const p of resources(s, "AWS::IAM::Policy")) {
    const roles = (p.props.Roles ?? []).map((r: unknown) => refTarget(r) ?? String(r));
    for (const statement of p.props.PolicyDocument.Statement) out.push({ policy: p.id, roles, statement });
  }
  for (const r of resources(s, "AWS::IAM::Role")) {
    for (const inline of r.props.Policies ?? []) {
      for (const statement of inline.PolicyDocument.Statement) out.push({ policy: r.id, roles: [r.id], statement });
    }
  }
  return out;
}

/** An IAM statement as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** A statement's actions as a list. */
export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

/** A statement's resources as a list (`Ref AWS::NoValue` dropped). */
export function resourcesOf(s: Statement): unknown[] {
  const list = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
  return list.filter((r) => !(r && typeof r === "object" && (r as { Ref?: string }).Ref === "AWS::NoValue"));
}

/** True when a resource value is, or contains in a literal part, a `*`. */
export function hasWildcard(resource: unknown): boolean {
  if (typeof resource === "string") return resource.includes("*");
  if (Array.isArray(resource)) return resource.some(hasWildcard);
  if (resource && typeof resource === "object") return Object.values(resource).some(hasWildcard);
  return false;
}

/** The statements of function `fnId`'s role, their resources resolved with `ref`. */
export function roleStatements(s: SynthesizedJob, fnId: string, ref: RefResolver): ResolvedStatement[] {
  const role = refTarget(resource(s, fnId).props.Role) ?? "";
  return policyStatements(s)
    .filter((p) => p.roles.includes(role))
    .map(({ statement }) => ({
      Effect: statement.Effect,
      actions: actionsOf(statement),
      resources: resourcesOf(statement).map((x) => String(resolveIntrinsics(x, ref))),
    }));
}
