/**
 * Offline synthesis: the SST app built in this process, with no AWS call and no
 * credentials. `sst build`/`sst deploy` ask STS for the account first; here the
 * account is a placeholder (the templates use `AWS::AccountId` where it matters)
 * and SST runs in its test mode (`NODE_ENV=test`), which skips its bootstrap
 * look-ups. Used by `npm run synth` and by the stack tests.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "sst/constructs";
import { loadJob } from "../cli/load-job.ts";
import { type AddedRiffleStack, type AddRiffleStackOptions, addRiffleStack } from "./index.ts";

/** The account of an offline synthesis. */
export const OFFLINE_ACCOUNT = "123456789012";

/** Options of {@link offlineApp}. */
export interface OfflineAppOptions {
  readonly stage: string;
  /** The SST project root, holding `sst.config.ts` and `package.json` (default: the working directory's). */
  readonly root?: string;
  /** Region of the stacks (default `AWS_REGION`, else us-east-1). */
  readonly region?: string;
  /** Where the cloud assembly is written (default: a new temporary directory). */
  readonly outDir?: string;
}

/** An SST app in deploy mode, ready for `app.stack(…)`, built without AWS. */
export async function offlineApp(o: OfflineAppOptions): Promise<App> {
  process.env.NODE_ENV = "test";
  const { initProject, useProject } = await import("sst/project.js");
  const { App } = await import("sst/constructs");
  await initProject({ stage: o.stage, ...(o.root ? { root: o.root } : {}) });
  const region = o.region ?? process.env.AWS_REGION ?? "us-east-1";
  return new App(
    { mode: "deploy", stage: o.stage, name: useProject().config.name, region, account: OFFLINE_ACCOUNT },
    { outdir: o.outDir ?? mkdtempSync(join(tmpdir(), "riffle-synth-")) },
  );
}

/** What {@link synthesizeJob} produced. */
export interface SynthesizedJob extends AddedRiffleStack {
  readonly app: App;
  /** The CloudFormation template. */
  readonly template: CloudFormationTemplate;
  /** Path of the template file in the cloud assembly. */
  readonly templateFile: string;
  /** The cloud assembly directory. */
  readonly outDir: string;
  /** Name of the stack. */
  readonly stackName: string;
}

/** The parts of a CloudFormation template this code reads. */
export interface CloudFormationTemplate {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown>; readonly DeletionPolicy?: string }
  >;
  readonly Outputs?: Record<string, unknown>;
}

/** Synthesizes the stack of one job offline and writes the cloud assembly. */
export async function synthesizeJob(
  o: OfflineAppOptions & Omit<AddRiffleStackOptions, "bundleDir">,
): Promise<SynthesizedJob> {
  await loadJob(o.jobFile); // a job that cannot load fails before SST is loaded
  const app = await offlineApp(o);
  const added = await addRiffleStack(app, {
    jobFile: o.jobFile,
    ...(o.parallelism === undefined ? {} : { parallelism: o.parallelism }),
    bundleDir: join(app.outdir, "riffle-bundle"),
  });
  await app.finish();
  const assembly = app.synth();
  const { getStack } = await import("sst/constructs");
  const stackName = getStack(added.fn).stackName;
  const artifact = assembly.getStackByName(stackName);
  return {
    ...added,
    app,
    template: artifact.template as CloudFormationTemplate,
    templateFile: join(assembly.directory, artifact.templateFile),
    outDir: assembly.directory,
    stackName,
  };
}

/** A human summary of a synthesized job: the tasks and their settings, and resource counts by type. */
export function summarize(s: SynthesizedJob): string {
  const d = s.deployment;
  const lines = [
    `stack ${s.stackName}: job '${d.job}', ${d.tasks.length} task(s), bundle ${(s.bundle.bytes / 1024).toFixed(0)} KiB`,
  ];
  for (const t of d.tasks) {
    lines.push(
      `  task ${t.task.id}: parallelism ${t.task.parallelism}, queue ${t.queueName}.fifo (+ -dlq.fifo, maxReceiveCount ${d.aws.maxReceiveCount}), ` +
        `${t.memoryMb} MB, timeout ${t.timeoutSeconds} s, visibility ${t.visibilityTimeoutSeconds} s, sends to ${t.sendsTo.join(", ") || "nothing"}`,
    );
  }
  lines.push(
    `  coordinator ${d.stateMachineName}: a round every ${Math.max(1, Math.ceil(d.checkpoint.intervalMs / 1000))} s`,
  );
  lines.push(`  tables ${d.prefix}-{log,state,checkpoints,ingest,output}`);
  const counts = new Map<string, number>();
  for (const r of Object.values(s.template.Resources)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  lines.push(`resources (${Object.keys(s.template.Resources).length}):`);
  for (const [type, n] of [...counts].sort((a, b) => a[0].localeCompare(b[0])))
    lines.push(`  ${String(n).padStart(3)} ${type}`);
  lines.push(`template: ${s.templateFile}`);
  return lines.join("\n");
}
