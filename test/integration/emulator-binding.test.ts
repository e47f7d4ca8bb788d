/**
 * The local emulators check no credentials, so they must listen on loopback only.
 * `riffle dev --runtime aws-local` starts them through `startAwsLocal`: this starts
 * it the same way (no endpoint given, so it starts fauxqs and DynamoDB Local itself)
 * and reads, from `/proc`, the bound address of every listening socket of this
 * process and of its child processes (DynamoDB Local's JVM). Nothing is sent off
 * loopback. A second check keeps every other emulator starter (tests, benchmarks)
 * on the two loopback launchers.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import clicks from "../../examples/clicks.ts";
import { type AwsLocal, startAwsLocal } from "../../functions/local/aws-local.ts";
import { ROOT } from "../../stacks/bundle.ts";
import { uniquePrefix } from "../support/dynamo-local.ts";
import { childProcesses, listeningSocketsOf } from "../support/listening-sockets.ts";

const ENDPOINT_VARS = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"] as const;

let local: AwsLocal | undefined;
const saved: Record<string, string | undefined> = {};
afterEach(async () => {
  await local?.stop();
  local = undefined;
  for (const k of ENDPOINT_VARS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const portOf = (url: string) => Number(new URL(url).port);

describe("emulators started by aws-local", () => {
  it("listen on 127.0.0.1 only: fauxqs and the HTTP API in this process, DynamoDB Local in its JVM", async () => {
    for (const k of ENDPOINT_VARS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    local = await startAwsLocal({ job: clicks, prefix: uniquePrefix("bind"), httpPort: 0, apiKeys: ["k"] });
    const own = listeningSocketsOf(process.pid).map((s) => ({ ...s, owner: "this process" }));
    const dynamoPort = portOf(local.dynamoEndpoint);
    const jvms = childProcesses(process.pid).filter(
      (c) => c.cmdline.includes("DynamoDB") && c.cmdline.endsWith(`-port ${dynamoPort}`),
    );
    expect(jvms, "DynamoDB Local's JVM is a child of this process").toHaveLength(1);
    const jvm = listeningSocketsOf((jvms[0] as { pid: number }).pid).map((s) => ({ ...s, owner: "DynamoDB Local" }));
    const all = [...own, ...jvm];
    // Each emulator's port is among them…
    const ports = new Set(all.map((s) => s.port));
    for (const url of [local.sqsEndpoint, local.dynamoEndpoint, local.url as string]) {
      expect(ports.has(portOf(url)), `a listening socket for ${url}`).toBe(true);
    }
    expect(jvm.map((s) => s.port)).toContain(dynamoPort);
    // …and every one is bound to loopback, not to 0.0.0.0 or ::.
    const open = all.filter((s) => s.address !== "127.0.0.1");
    expect(open.map((s) => `${s.owner} ${s.family} ${s.address}:${s.port}`)).toEqual([]);
  }, 120_000);
});

/** Every .ts file under `dir` (node_modules and dot-directories skipped). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("every emulator starter", () => {
  it("goes through the loopback launchers (functions/local/sqs-local.ts, functions/local/dynamo-local.ts)", () => {
    const launchers = new Set([
      "functions/local/sqs-local.ts",
      "functions/local/dynamo-local.ts",
      "functions/local/dynamo-local-launcher.ts",
      relative(ROOT, import.meta.filename),
    ]);
    const offenders: string[] = [];
    for (const dir of ["core", "functions", "cli", "stacks", "bench", "test", "examples"]) {
      for (const file of sources(join(ROOT, dir))) {
        const rel = relative(ROOT, file);
        if (launchers.has(rel)) continue;
        const text = readFileSync(file, "utf8");
        if (/\bstartFauxqs\s*\(/.test(text)) offenders.push(`${rel}: startFauxqs() listens on 0.0.0.0`);
        if (/DynamoDBLocal\.jar/.test(text))
          offenders.push(`${rel}: runs DynamoDBLocal.jar, which listens on every interface`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
