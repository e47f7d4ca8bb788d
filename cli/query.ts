/**
 * `riffle query`: batch SQL over the dynamic tables in a state dir, every table read at
 * the same checkpoint (`--at`, a savepoint's, or the newest sealed one). Works while
 * `riffle run` holds the dir: it reads through a read-only connection.
 *
 * `--principals FILE --as NAME` reads as that principal of a principals file: its grants
 * checked, its row policies and masks applied and classified columns masked without
 * `unmask` (as over HTTP), the answer fingerprinted, and the read (or its refusal)
 * appended to the state dir's audit log. Without them the owner of the dir reads it all.
 */

import { readFileSync } from "node:fs";
import { openStateDirAuditLog } from "../core/durable/sqlite-audit-log.ts";
import { openStateDir, stateDirJob } from "../core/durable/sqlite-db.ts";
import { UsageError } from "../core/errors.ts";
import { ForbiddenError, type Principal } from "../core/governance/principal.ts";
import { parsePrincipals } from "../core/governance/principals-config.ts";
import type { GovernanceReport } from "../core/governance/rewrite.ts";
import type { AuditEntry } from "../core/ports/audit-log.ts";
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
  /** A principals file, and the name of the principal to read as (both or neither). */
  readonly principals?: string;
  readonly as?: string;
}

/** The principal named `name` in principals file `file`; a mistake is a usage error. */
export function principalNamed(file: string, name: string): Principal {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new UsageError(`cannot read the principals file '${file}': ${(cause as Error).message}`, { cause });
  }
  const all = parsePrincipals(text, file);
  const found = all.find((p) => p.name === name);
  if (!found)
    throw new UsageError(
      `'${file}' has no principal '${name}' (it has: ${all.map((p) => p.name).join(", ") || "none"})`,
    );
  return found;
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
  if ((o.principals === undefined) !== (o.as === undefined))
    throw new UsageError("give --principals FILE and --as NAME together");
  const principal = o.principals !== undefined && o.as !== undefined ? principalNamed(o.principals, o.as) : undefined;
  const job = stateDirJob(o.stateDir);
  const sd = openStateDir(o.stateDir, { create: false, job, readOnly: true });
  const audit = principal ? openStateDirAuditLog(o.stateDir) : undefined;
  let report: GovernanceReport = { tables: [], predicates: [], masked: [] };
  const record = (e: Pick<AuditEntry, "outcome"> & Partial<AuditEntry>) =>
    audit?.log.append({
      time: Date.now(),
      principal: principal?.name ?? "",
      route: "riffle query",
      job,
      ...report,
      rows: 0,
      query: sql,
      ...e,
    });
  try {
    const ctx = {
      job,
      store: sd.tableStore,
      savepointCheckpoint: async (name: string) =>
        (await sd.checkpointStore.listSavepoints(job)).find((s) => s.name === name)?.checkpoint,
    };
    const at = o.savepoint !== undefined ? { savepoint: o.savepoint } : o.at !== undefined ? { at: o.at } : {};
    const reader = principal ? { principal, applied: (r: GovernanceReport) => (report = r) } : undefined;
    const answer = await readTable(ctx, { kind: "query", sql, at }, reader);
    if (answer.kind !== "query") return 1;
    const { checkpoint, fingerprint } = answer;
    await record({ outcome: "allowed", rows: answer.rows.length, checkpoint, ...(fingerprint ? { fingerprint } : {}) });
    const as = principal ? ` as ${principal.name} (fingerprint ${fingerprint})` : "";
    if (o.format === "table") printTable(`${job} at checkpoint ${answer.checkpoint}${as}`, answer.rows);
    else {
      process.stderr.write(`riffle: ${job} at checkpoint ${answer.checkpoint}${as} (${answer.scanned} rows scanned)\n`);
      for (const r of answer.rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
    return 0;
  } catch (e) {
    await record(e instanceof ForbiddenError ? { outcome: "denied", grant: e.grant } : { outcome: "failed" });
    if (e instanceof SqlError || e instanceof TableReadError || e instanceof ForbiddenError)
      throw new UsageError(e.message, { cause: e });
    throw e;
  } finally {
    audit?.close();
    sd.close();
  }
}
