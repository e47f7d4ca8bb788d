/**
 * A throwaway PostgreSQL cluster for tests and the benchmark: `initdb` in a temporary directory,
 * `wal_level = logical`, listening on 127.0.0.1 only, on a free port, trust
 * authentication for the superuser `postgres`. The server binaries are Debian's
 * `postgresql` package (`.ci/run` installs it); a missing binary fails loudly.
 *
 * initdb and postgres refuse to run as root, so a root test runs them as the
 * `postgres` system user (spawn's `uid`/`gid`), which owns the data directory; the
 * server is then the test's own child, which `stop()` signals directly.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A running cluster. */
export interface PostgresServer {
  readonly port: number;
  /** A connection string for the superuser, to database `postgres`. */
  readonly url: string;
  /** Opens a client (the caller ends it). */
  connect(): Promise<pg.Client>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Where the Debian package puts the server binaries (the newest major version). */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const dir = process.env.RIFFLE_PG_BIN ?? (versions[0] ? join(root, versions[0], "bin") : undefined);
  if (!dir || !existsSync(join(dir, "initdb")) || !existsSync(join(dir, "postgres")))
    throw new Error(
      "PostgreSQL server binaries not found (no /usr/lib/postgresql/<version>/bin/initdb): install Debian's `postgresql` package (.ci/run does), or set RIFFLE_PG_BIN",
    );
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Who runs the server binaries: the `postgres` system user when the test runs as root. */
function serverUser(): { uid: number; gid: number } | Record<string, never> {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** Starts a fresh cluster; resolves once it accepts connections (or rejects with its log). */
export async function startPostgres(settings: Record<string, string> = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "riffle-pg-"));
  const data = join(dir, "data");
  const user = serverUser();
  if ("uid" in user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  execFileSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], {
    stdio: ["ignore", "pipe", "pipe"],
    ...user,
  });
  const port = await freePort();
  const conf: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    wal_level: "logical",
    max_replication_slots: "20",
    max_wal_senders: "20",
    fsync: "off",
    full_page_writes: "off",
    ...settings,
  };
  const args = Object.entries(conf).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const child: ChildProcess = spawn(join(bin, "postgres"), ["-D", data, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...user,
  });
  let log = "";
  child.stderr?.on("data", (d) => {
    log += d;
  });
  child.stdout?.on("data", (d) => {
    log += d;
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`postgres exited with ${child.exitCode} before it accepted connections:\n${log}`);
    try {
      const c = await connect();
      await c.end();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 30 s:\n${log}`, { cause: e });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT"); // fast shutdown
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, url, connect, stop };
}
