/**
 * The aws-local chaos driver: one fauxqs and one DynamoDB Local for the whole
 * fuzz run, one `riffle dev --runtime aws-local` per seed (its own `--prefix`),
 * seeded random operations over its HTTP API and signals, then a final phase that
 * lets the job drain, probes every key's count, replays what is still dead-lettered,
 * and checks the committed output with the oracle.
 */

import { rmSync, writeFileSync } from "node:fs";
import { dynamoClient } from "../../functions/aws/dynamo-client.ts";
import { startDynamoLocal } from "../../functions/local/dynamo-local.ts";
import { startLocalSqs } from "../../functions/local/sqs-local.ts";
import { finalProbe } from "./aws-final.ts";
import { pickAwsOp } from "./aws-ops.ts";
import { type AwsConfig, AwsWorld, type Emulators } from "./aws-world.ts";
import type { SeedResult } from "./report.ts";

/** The shared emulators and a way to run seeds on them. */
export interface AwsChaos {
  runSeed(cfg: AwsConfig): Promise<SeedResult>;
  stop(): Promise<void>;
}

/** Starts fauxqs and DynamoDB Local once for a fuzz run (DynamoDB Local may take `readyTimeoutMs` to answer). */
export async function startAwsChaos(echo?: (line: string) => void, readyTimeoutMs = 90_000): Promise<AwsChaos> {
  // The loopback launchers (emulators bind 127.0.0.1 only).
  const [q, d] = await Promise.all([quietly(() => startLocalSqs()), startDynamoLocal({ readyTimeoutMs })]);
  const emu: Emulators = { sqs: q.endpoint, dynamo: d.endpoint, client: dynamoClient(d.endpoint) };
  echo?.(`emulators: SQS ${emu.sqs}, DynamoDB ${emu.dynamo}`);
  return {
    runSeed: (cfg) => runAwsSeed(cfg, emu),
    async stop() {
      emu.client.destroy();
      await Promise.allSettled([q.stop(), d.stop()]);
    },
  };
}

/** Runs `load` without Node's warnings on stderr (fauxqs imports `node:sqlite`, which warns). */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return await load();
  } finally {
    process.emitWarning = emit;
  }
}

/** Runs one sequence; never throws (a driver error is a violation). */
export async function runAwsSeed(cfg: AwsConfig, emu: Emulators): Promise<SeedResult> {
  const t0 = performance.now();
  const w = new AwsWorld(cfg, emu);
  try {
    const e = w.j.begin("start", `riffle dev -p ${w.p} --prefix ${w.prefix}`);
    await w.start();
    e.outcome = `API on ${w.url}`;
    for (let i = 0; i < cfg.ops; i++) {
      const op = pickAwsOp(w);
      await op.run(w, w.j.begin(op.name));
    }
    writeFileSync(w.marker, "");
    await finalProbe(w);
  } catch (error) {
    w.j.violate(`driver error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, w.stderr());
  } finally {
    w.j.flush();
    await w.stop("SIGTERM").catch(() => undefined);
    rmSync(cfg.dir, { recursive: true, force: true });
  }
  const { ops, violations, notes } = w.j;
  const seconds = (performance.now() - t0) / 1000;
  // A violating seed keeps each server's stderr (its last 32 KB) to diagnose a race that does not replay.
  const serverLog =
    violations.length > 0 ? w.children.map((c, i) => `--- riffle dev #${i + 1}\n${c.stderr()}`) : undefined;
  return { seed: cfg.seed, runtime: "aws-local", ops, violations, notes, seconds, ...(serverLog ? { serverLog } : {}) };
}
