/**
 * The interactive client (`riffle sql` without a file) as a user drives it through a pipe: DDL,
 * SHOW TABLES, DESCRIBE, a bounded SELECT whose changelog is printed line by line and folds to
 * the right result, a precise error that does not end the client, Ctrl-C that cancels an
 * unbounded query and not the client, QUIT, and the history file. On a terminal the result is
 * redrawn in place (checked on a stream that says it is one).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { sqlRepl } from "../../cli/sql-repl.ts";
import { ROOT } from "../../stacks/bundle.ts";

const BIN = join(ROOT, "bin/riffle.js");
const CLICKS = `CREATE TABLE clicks (\`user\` VARCHAR, n BIGINT) WITH ('connector' = 'datagen',
  'number-of-rows' = '50', 'fields.user.length' = '1', 'fields.n.min' = '1', 'fields.n.max' = '3');`;

/** The client as a child process with piped stdin; `send` writes, `output` waits for a match. */
function client() {
  const history = join(mkdtempSync(join(tmpdir(), "riffle-repl-")), "history");
  const child = spawn(process.execPath, [BIN, "sql", "--parallelism", "2"], {
    cwd: ROOT,
    env: { ...process.env, RIFFLE_SQL_HISTORY: history },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return {
    history,
    send: (text: string) => child.stdin.write(text),
    end: () => child.stdin.end(),
    interrupt: () => child.kill("SIGINT"),
    out: () => out,
    err: () => err,
    exited,
    async until(re: RegExp, ms = 60_000) {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe("riffle sql without a file: the interactive client through a pipe", () => {
  it("runs DDL, SHOW TABLES, DESCRIBE and a bounded SELECT, reports errors, keeps history and quits", async () => {
    const c = client();
    c.send(`${CLICKS}\nSHOW TABLES;\nDESCRIBE clicks;\n`);
    c.send("SELECT `user`, SUM(n) AS total\n  FROM clicks GROUP BY `user`;\n");
    c.send("SELECT nope FROM clicks;\nQUIT;\nSELECT 1;\n");
    expect(await c.exited, c.err()).toBe(0);
    const out = c.out();
    expect(out).toContain("[INFO] Execute statement succeeded.");
    expect(out).toMatch(/table name\n-+\nclicks\n/);
    expect(out).toMatch(/name +type +key +extras\n[- ]+\nuser +VARCHAR\s*\nn +BIGINT/);
    expect(out).toContain("op | user | total");
    // The changelog lines fold to one row per user whose totals add up to the 50 rows' sum.
    const totals = new Map<string, number>();
    let changes = 0;
    for (const m of out.matchAll(/^([-+][IUD]) \| (\S+) \| (\d+)$/gm)) {
      changes++;
      const [, kind, user, total] = m as unknown as [string, string, string, string];
      if (kind === "+I" || kind === "+U") totals.set(user, Number(total));
      else if (kind === "-D") totals.delete(user);
    }
    expect(out).toMatch(/^-U \| /m); // an aggregate updates its rows
    const rows = Number(/\[INFO\] query finished: (\d+) row\(s\)/.exec(out)?.[1]);
    expect(rows).toBe(totals.size);
    expect(changes).toBeGreaterThan(rows);
    const sum = [...totals.values()].reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThanOrEqual(50);
    expect(sum).toBeLessThanOrEqual(150);
    expect(out).toContain("[ERROR] line 1, column 8: unknown column 'nope' (available: user, n)");
    expect(out).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(out).not.toContain("EXPR$0"); // nothing after QUIT ran
    const history = readFileSync(c.history, "utf8").trim().split("\n");
    expect(history).toEqual([
      CLICKS.replace(/\s*\n\s*/g, " "),
      "SHOW TABLES;",
      "DESCRIBE clicks;",
      "SELECT `user`, SUM(n) AS total FROM clicks GROUP BY `user`;",
      "SELECT nope FROM clicks;",
      "QUIT;",
    ]);
  }, 120_000);

  it("Ctrl-C cancels a running unbounded query, not the client", async () => {
    const c = client();
    c.send("CREATE TABLE forever (k VARCHAR) WITH ('connector' = 'datagen', 'fields.k.length' = '1');\n");
    c.send("SELECT k, COUNT(*) AS n FROM forever GROUP BY k;\n");
    await c.until(/^\+U \| /m);
    c.interrupt();
    await c.until(/\[INFO\] query cancelled: \d+ row\(s\)/);
    c.send("SHOW TABLES;\n");
    await c.until(/table name\n-+\nforever\n/);
    c.end();
    expect(await c.exited, c.err()).toBe(0);
  }, 120_000);
});

describe("the interactive client on a terminal", () => {
  it("redraws the result table in place as the changelog arrives", async () => {
    const input = new PassThrough();
    let written = "";
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.toString();
        done();
      },
    });
    const done = sqlRepl({ input, output, tty: true, parallelism: 1 });
    input.write(`${CLICKS.replace("'50'", "'3000'")}\n`);
    input.write("SELECT `user`, COUNT(*) AS c FROM clicks GROUP BY `user`;\n");
    input.end("QUIT;\n");
    expect(await done).toBe(0);
    const esc = String.fromCharCode(27);
    expect(written).toMatch(new RegExp(`${esc}\\[\\d+A${esc}\\[J`)); // cursor up and clear: a redraw
    expect(written).toMatch(/user +c\n-+ +-+\n/);
    expect(written).not.toMatch(/^[-+][IUD] \| /m);
    expect(written).toMatch(/\[INFO\] query finished: \d+ row\(s\)/);
  }, 120_000);
});
