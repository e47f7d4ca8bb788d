/** `riffle sql`: plans a SQL script and runs its inserts on the embedded runtime, or explains them. */

import { existsSync, readFileSync } from "node:fs";
import { UsageError } from "../core/errors.ts";
import { SqlError } from "../core/sql/errors.ts";
import "../connectors/dynamodb/sql.ts"; // registers the dynamodb-cdc and dynamodb SQL connectors
import "../connectors/postgres/sql.ts"; // registers the postgres-cdc and postgres SQL connectors
import { explain, planSql, sqlJob } from "../core/sql/session.ts";
import { sqlJobName } from "./load-job.ts";
import { type RunOptions, runJob } from "./run.ts";

/** Options of `riffle sql`. */
export interface SqlOptions extends RunOptions {
  readonly explain?: boolean;
  /** `NAME=VALUE` pairs that replace `${NAME}` in the script. */
  readonly define?: readonly string[];
}

/** The script of `files` (joined with `;`), with `${NAME}` placeholders replaced. Throws {@link UsageError}. */
export function readScript(files: readonly string[], defines: readonly string[] = []): string {
  const vars = new Map<string, string>();
  for (const d of defines) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(d);
    if (!m) throw new UsageError(`invalid --define '${d}': expected NAME=VALUE`);
    vars.set(m[1] as string, m[2] as string);
  }
  const parts = files.map((f) => {
    if (!existsSync(f)) throw new UsageError(`cannot find SQL file '${f}'`);
    return readFileSync(f, "utf8");
  });
  // One statement per file at least: a file's last statement may lack its ';'.
  return parts.join(";\n").replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = vars.get(name);
    if (v === undefined) throw new UsageError(`the script uses \${${name}}: give it with --define ${name}=VALUE`);
    return v;
  });
}

/** Runs `riffle sql`; resolves with the process exit code. */
export async function sqlCommand(files: readonly string[], o: SqlOptions): Promise<number> {
  const text = readScript(files, o.define);
  const where = files.length === 1 ? files[0] : files.join(" + ");
  try {
    const program = planSql(text);
    for (const e of program.explains) process.stdout.write(`${e}\n`);
    if (o.explain) {
      for (const p of program.inserts) process.stdout.write(`${explain(p)}\n`);
      return 0;
    }
    if (program.inserts.length === 0) return 0;
    return await runJob(sqlJob(sqlJobName(files.at(-1) as string), text), o);
  } catch (error) {
    if (error instanceof SqlError) throw new UsageError(`${where}: ${error.message}`, { cause: error });
    throw error;
  }
}
