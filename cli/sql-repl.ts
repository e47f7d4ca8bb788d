/**
 * `riffle sql` without a file: an interactive SQL client in the spirit of Flink's. Statements end
 * with `;` and may span lines; `SHOW TABLES`, `DESCRIBE t`, DDL, `EXPLAIN`, `INSERT INTO` (run to
 * the end) and `SELECT`, whose result is a table that updates as its changelog is committed:
 * redrawn in place on a terminal, one `+I`/`-U`/`+U`/`-D` line per change otherwise. Ctrl-C
 * cancels the running query, not the client; `QUIT;` (or the end of the input) exits. Statements
 * are kept in a history file (`~/.riffle_sql_history`, or `$RIFFLE_SQL_HISTORY`).
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { defineJob, type Job } from "../core/api/environment.ts";
import { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { type ChangeRecord, foldChangelog } from "../core/sql/changelog.ts";
import { SqlError } from "../core/sql/errors.ts";
import type { TableDef } from "../core/sql/logical.ts";
import { type TranslateContext, uidSequence } from "../core/sql/physical.ts";
import { SqlSession, writeInsert } from "../core/sql/session.ts";
import { Table } from "../core/sql/table-env.ts";
import { showType } from "../core/sql/types.ts";
import { tableLines } from "./table.ts";

/** Options of {@link sqlRepl}; the defaults are the process's streams. */
export interface ReplOptions {
  readonly input?: Readable;
  readonly output?: Writable;
  /** Redraw results in place (default: when both streams are terminals). */
  readonly tty?: boolean;
  readonly parallelism?: number;
}

/** Runs the client until `QUIT;` or the end of the input; resolves with the exit code. */
export async function sqlRepl(o: ReplOptions = {}): Promise<number> {
  const input = o.input ?? process.stdin;
  const out = o.output ?? process.stdout;
  const tty = o.tty ?? (Boolean((input as { isTTY?: boolean }).isTTY) && Boolean((out as { isTTY?: boolean }).isTTY));
  const historyFile = process.env.RIFFLE_SQL_HISTORY ?? join(homedir(), ".riffle_sql_history");
  const rl = createInterface({
    input,
    output: out,
    terminal: tty,
    history: readHistory(historyFile),
    historySize: 1000,
  });
  const client = new Client(out, tty, o.parallelism);
  rl.on("SIGINT", () => client.interrupt(rl));
  const onSignal = () => client.interrupt(rl);
  process.on("SIGINT", onSignal);
  if (tty) out.write("riffle SQL client: end statements with ';', QUIT; to exit\n");
  let buffer = "";
  prompt(rl, tty, buffer);
  try {
    for await (const line of rl) {
      buffer = buffer ? `${buffer}\n${line}` : line;
      if (!endsStatement(buffer)) {
        prompt(rl, tty, buffer);
        continue;
      }
      const text = buffer;
      buffer = "";
      const statements = splitStatements(text);
      if (statements.length > 0) appendHistory(historyFile, text);
      for (const statement of statements) if ((await client.run(statement)) === "quit") return 0;
      prompt(rl, tty, buffer);
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    rl.close();
  }
}

function prompt(rl: Interface, tty: boolean, buffer: string): void {
  if (!tty) return;
  rl.setPrompt(buffer ? "     > " : "riffle> ");
  rl.prompt();
}

/** One client's session and its running query. */
class Client {
  private readonly session = new SqlSession();
  private running: AbortController | undefined;
  private readonly out: Writable;
  private readonly tty: boolean;
  private readonly parallelism: number | undefined;

  constructor(out: Writable, tty: boolean, parallelism: number | undefined) {
    this.out = out;
    this.tty = tty;
    this.parallelism = parallelism;
  }

  /** Ctrl-C: cancels the running query, or else says how to leave. */
  interrupt(rl: Interface): void {
    if (this.running) {
      this.running.abort();
      return;
    }
    this.out.write("\n(QUIT; exits)\n");
    prompt(rl, this.tty, "");
  }

  /** Runs one statement (without its `;`); errors are printed, never thrown. */
  async run(statement: string): Promise<"quit" | undefined> {
    try {
      if (/^(QUIT|EXIT)$/i.test(statement)) return "quit";
      if (/^SHOW\s+TABLES$/i.test(statement)) return this.print(this.showTables());
      const describe = /^(?:DESCRIBE|DESC)\s+`?([^`\s]+)`?$/i.exec(statement);
      if (describe) return this.print(this.describe(describe[1] as string));
      if (/^(SELECT|WITH)\b/i.test(statement)) return await this.select(statement);
      const { inserts, explains } = this.session.execute(`${statement};`);
      for (const e of explains) this.out.write(`${e}\n`);
      if (inserts.length > 0) {
        const job = defineJob("sql-client", (env) => {
          const ctx = context(env);
          for (const p of inserts) writeInsert(p, ctx);
        });
        const counts = new Map<string, number>();
        const how = await this.execute(job, (sink, values) =>
          counts.set(sink, (counts.get(sink) ?? 0) + values.length),
        );
        const sinks = [...counts].map(([s, n]) => `${n} to '${s}'`).join(", ") || "nothing";
        this.out.write(`[INFO] INSERT ${how}: committed ${sinks}\n`);
      } else if (explains.length === 0) this.out.write("[INFO] Execute statement succeeded.\n");
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      this.out.write(
        `[ERROR] ${error instanceof SqlError ? message : `${(error as Error).name ?? "Error"}: ${message}`}\n`,
      );
    }
    return undefined;
  }

  private print(lines: readonly string[]): undefined {
    for (const l of lines) this.out.write(`${l}\n`);
    return undefined;
  }

  private showTables(): string[] {
    const { tables, views } = this.session.catalog;
    const names = [...tables.keys(), ...views.keys()].sort();
    return names.length === 0 ? ["Empty set"] : tableLines(names.map((name) => ({ "table name": name })));
  }

  private describe(name: string): string[] {
    const table: TableDef | undefined = this.session.catalog.tables.get(name);
    if (!table) {
      if (!this.session.catalog.views.has(name)) throw new SqlError("validation", undefined, `unknown table '${name}'`);
      const { optimized } = this.session.query(`SELECT * FROM \`${name}\``);
      return tableLines(optimized.fields.map((f) => ({ name: f.name, type: showType(f.type) })));
    }
    const key = new Set(table.primaryKey ?? []);
    const rows = table.physical.map((f) => ({
      name: f.name,
      type: showType(f.type),
      key: key.has(f.name) ? "PRI" : "",
      extras: "",
    }));
    for (const c of table.computed) rows.push({ name: c.name, type: "", key: "", extras: "computed" });
    const w = table.watermark;
    for (const r of rows) if (w && r.name === w.column) r.extras = `${r.extras} watermark`.trim();
    return tableLines(rows);
  }

  /** Runs a SELECT, showing its result as its changelog is committed. */
  private async select(statement: string): Promise<undefined> {
    const { optimized } = this.session.query(statement);
    const names = optimized.fields.map((f) => f.name);
    const job = defineJob("sql-client", (env) => {
      new Table(optimized, context(env)).toChangelogStream().sinkTo("result");
    });
    const view = new ResultView(this.out, this.tty, names);
    const how = await this.execute(job, (_sink, values) => view.add(values as readonly ChangeRecord[]));
    this.out.write(`[INFO] query ${how}: ${view.rows()} row(s)\n`);
    return undefined;
  }

  /** Runs `job` on the embedded runtime until it ends or Ctrl-C cancels it. */
  private async execute(job: Job, onOutput: (sink: string, values: readonly unknown[]) => void): Promise<string> {
    const stop = new AbortController();
    this.running = stop;
    try {
      const rt = new EmbeddedRuntime(job, {
        signal: stop.signal,
        onOutput,
        ...(this.parallelism === undefined ? {} : { parallelism: this.parallelism }),
      });
      await rt.run();
      return stop.signal.aborted ? "cancelled" : "finished";
    } finally {
      this.running = undefined;
    }
  }
}

function context(env: TranslateContext["env"]): TranslateContext {
  return { env, ...uidSequence("sql") };
}

/** A query's result as it arrives: redrawn in place on a terminal, one line per change otherwise. */
class ResultView {
  private readonly changes: ChangeRecord[] = [];
  private drawn = 0;
  private readonly out: Writable;
  private readonly tty: boolean;
  private readonly names: readonly string[];

  constructor(out: Writable, tty: boolean, names: readonly string[]) {
    this.out = out;
    this.tty = tty;
    this.names = names;
    if (!tty) out.write(`op | ${names.join(" | ")}\n`);
  }

  add(records: readonly ChangeRecord[]): void {
    this.changes.push(...records);
    if (!this.tty) {
      for (const c of records) this.out.write(`${c.kind} | ${this.names.map((n) => cell(c.row[n])).join(" | ")}\n`);
      return;
    }
    const max = Math.max(5, ((this.out as { rows?: number }).rows ?? 40) - 4);
    const rows = foldChangelog(this.changes);
    const lines = tableLines(rows.slice(0, max), this.names);
    if (rows.length > max) lines.push(`… ${rows.length - max} more row(s)`);
    this.out.write(`${this.drawn > 0 ? `\x1b[${this.drawn}A\x1b[J` : ""}${lines.join("\n")}\n`);
    this.drawn = lines.length;
  }

  rows(): number {
    return foldChangelog(this.changes).length;
  }
}

const cell = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? "NULL"));

/** True when `text` ends a statement: its last non-blank character is a `;` outside quotes. */
function endsStatement(text: string): boolean {
  const parts = splitStatements(text, true);
  return parts.length > 0 && parts.at(-1) === "";
}

/** The statements of `text`, split at `;` outside quotes and comments; `keepTail` keeps the unfinished last one. */
function splitStatements(text: string, keepTail = false): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === "`" || ch === '"') quote = ch;
    else if (ch === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
      continue;
    } else if (ch === ";") {
      out.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (keepTail) out.push(current.trim());
  return out.filter((s, i) => s !== "" || (keepTail && i === out.length - 1));
}

function readHistory(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).reverse().slice(0, 1000);
}

function appendHistory(file: string, statement: string): void {
  try {
    appendFileSync(file, `${statement.replace(/\s*\n\s*/g, " ")}\n`);
  } catch {
    // A history that cannot be written is no reason to stop the client.
  }
}
