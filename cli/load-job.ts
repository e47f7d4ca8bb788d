/** Loads a job module for the CLI, with one-line errors for every way it can go wrong. */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isJob, type Job } from "../core/api/environment.ts";
import { UsageError } from "../core/errors.ts";

/** Imports `file` and returns its default-exported job. Throws {@link UsageError}. */
export async function loadJob(file: string): Promise<Job> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`cannot find job file '${file}'`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    throw new UsageError(`cannot load job file '${file}': ${msg}`, { cause });
  }
  if (!isJob(mod.default)) {
    throw new UsageError(`'${file}' does not export a job: its default export must be defineJob(name, (env) => …)`);
  }
  return mod.default;
}
