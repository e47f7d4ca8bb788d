/** Loads a job module for the CLI, with one-line errors for every way it can go wrong. */

import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isJob, type Job } from "../core/api/environment.ts";
import { UsageError } from "../core/errors.ts";

/**
 * Imports `file` and returns its default-exported job; a `.sql` file is a SQL script, the job
 * of its inserts (named after the file). Throws {@link UsageError}.
 */
export async function loadJob(file: string): Promise<Job> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`cannot find job file '${file}'`);
  if (path.endsWith(".sql")) return loadSqlJob(file, readFileSync(path, "utf8"));
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

/** The job name of a SQL script: its file name without `.sql`, other characters than A-Z a-z 0-9 _ . - as '-'. */
export function sqlJobName(file: string): string {
  return basename(file)
    .replace(/\.sql$/, "")
    .replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** The job of SQL script `text` (from `file`); bad SQL is a {@link UsageError} naming the file, line and column. */
export async function loadSqlJob(file: string, text: string): Promise<Job> {
  // Loaded here, not at the top: a job without SQL does not load the parser.
  const { sqlJob } = await import("../core/sql/session.ts");
  const { SqlError } = await import("../core/sql/errors.ts");
  try {
    return sqlJob(sqlJobName(file), text);
  } catch (error) {
    if (error instanceof SqlError) throw new UsageError(`${file}: ${error.message}`, { cause: error });
    throw error;
  }
}
