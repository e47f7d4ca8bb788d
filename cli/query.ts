/**
 * `riffle query`: batch SQL over the dynamic tables in a state dir, every table read at
 * the same checkpoint (`--at`, a savepoint's, or the newest sealed one). Works while
 * `riffle run` holds the dir: it reads through a read-only connection.
 */

import { openStateDir, stateDirJob } from "../core/durable/sqlite-db.ts";
import { UsageError } from "../core/errors.ts";
import { SqlError } from "../core/sql/errors.ts";
import { TableReadError } from "../core/tables/read.ts";
import { readTable } from "../core/tables/read-table.ts";
import { printTable } from "./table.ts";

/** Options of `riffle query`. */
export interface QueryOptions {
  readonly stateDir: string;
  readonly at?: number;
  readonly savepoint?: string;
  readonly format: "jsonl" | "table";
}

/** Parses `--at`: a positive checkpoint id. */
export function parseCheckpoint(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`invalid checkpoint '${value}': expected a positive integer`);
  return n;
}

/** Runs `sql` and prints its rows; the checkpoint read goes to stderr (jsonl) or the table's title. */
export async function queryCommand(sql: string, o: QueryOptions): Promise<number> {
  const job = stateDirJob(o.stateDir);
  const sd = openStateDir(o.stateDir, { create: false, job, readOnly: true });
  try {
    const ctx = {
      job,
      store: sd.tableStore,
      savepointCheckpoint: async (name: string) =>
        (await sd.checkpointStore.listSavepoints(job)).find((s) => s.name === name)?.checkpoint,
    };
    const at = o.savepoint !== undefined ? { savepoint: o.savepoint } : o.at !== undefined ? { at: o.at } : {};
    const answer = await readTable(ctx, { kind: "query", sql, at });
    if (answer.kind !== "query") return 1;
    if (o.format === "table") printTable(`${job} at checkpoint ${answer.checkpoint}`, answer.rows);
    else {
      process.stderr.write(`riffle: ${job} at checkpoint ${answer.checkpoint} (${answer.scanned} rows scanned)\n`);
      for (const r of answer.rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof SqlError || e instanceof TableReadError) throw new UsageError(e.message, { cause: e });
    throw e;
  } finally {
    sd.close();
  }
}
