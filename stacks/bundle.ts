/**
 * Bundles the Lambda code of one job with esbuild: `functions/lambda/entry.ts` with
 * `riffle-job` aliased to the job's module, into one ESM file for Node.js 22. Every
 * function of the job runs this one bundle (its `handler` picks the role), so a
 * deployment builds and uploads the code once. esbuild is the copy SST ships with.
 * The built dashboard (`dashboard/dist`) goes beside it, for the API function to
 * serve under `/ui/`.
 */

import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sqlJobName } from "../cli/load-job.ts";
import { RiffleError } from "../core/errors.ts";

/** The repository root (where `core/`, `functions/` and `stacks/` are). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** File name (without extension) of the bundle: handlers are `entry.<role>`. */
export const ENTRY = "entry";

/** What {@link bundleJob} built. */
export interface JobBundle {
  /** Directory holding `entry.mjs` (and its source map): the functions' code asset. */
  readonly dir: string;
  /** Size of `entry.mjs`, in bytes. */
  readonly bytes: number;
}

/** Options of {@link bundleJob}. */
export interface BundleOptions {
  /** The job module (absolute, or relative to the working directory). */
  readonly jobFile: string;
  /** Output directory; emptied first. */
  readonly outDir: string;
  /** Minify the bundle (default true). */
  readonly minify?: boolean;
}

interface EsbuildResult {
  readonly errors: readonly { text: string }[];
}

interface Esbuild {
  build(options: Record<string, unknown>): Promise<EsbuildResult>;
}

/** SST's esbuild (a dependency of `sst`, not of riffle). */
function esbuild(): Esbuild {
  const requireFromSst = createRequire(fileURLToPath(import.meta.resolve("sst/package.json")));
  return requireFromSst("esbuild") as Esbuild;
}

/**
 * Bundles the Lambda entry for `jobFile` into `outDir/entry.mjs`.
 * @throws RiffleError (`bundle`) with esbuild's messages when the build fails.
 */
export async function bundleJob(options: BundleOptions): Promise<JobBundle> {
  const jobFile = resolve(options.jobFile);
  const dir = resolve(options.outDir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${ENTRY}.mjs`);
  const jobModule = jobFile.endsWith(".sql") ? sqlJobModule(jobFile) : jobFile;
  try {
    await esbuild().build({
      entryPoints: [join(ROOT, "functions/lambda/entry.ts")],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      minify: options.minify ?? true,
      keepNames: true,
      sourcemap: true,
      logLevel: "silent",
      // The job module, and the package self-reference `riffle` its imports use.
      alias: { "riffle-job": jobModule, riffle: join(ROOT, "core/index.ts") },
      // A SQL script is bundled as text, planned when the function loads.
      loader: { ".sql": "text" },
      // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
      banner: {
        js: 'import { createRequire as __riffleRequire } from "node:module"; const require = __riffleRequire(import.meta.url);',
      },
    });
  } catch (cause) {
    const errors = (cause as Partial<EsbuildResult>).errors?.map((e) => e.text) ?? [String(cause)];
    throw new RiffleError("bundle", `could not bundle the Lambda code of '${options.jobFile}': ${errors.join("; ")}`, {
      cause,
    });
  }
  const dashboard = join(ROOT, "dashboard/dist");
  if (existsSync(join(dashboard, "index.html"))) cpSync(dashboard, join(dir, "dashboard"), { recursive: true });
  return { dir, bytes: statSync(outfile).size };
}

/**
 * A job module for SQL script `sqlFile` (in a temporary directory, outside the code asset): the
 * script's text and `sqlJob` of it, named as `riffle dev` names it.
 */
function sqlJobModule(sqlFile: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "riffle-sql-job-")), "job.ts");
  const lines = [
    `import { sqlJob } from ${JSON.stringify(join(ROOT, "core/sql/session.ts"))};`,
    `import text from ${JSON.stringify(sqlFile)};`,
    `export default sqlJob(${JSON.stringify(sqlJobName(sqlFile))}, text);`,
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
