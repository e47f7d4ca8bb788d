/**
 * `npm run synth` as a user runs it: a child process with no AWS credentials or
 * configuration in its environment synthesizes a job's stack, prints the summary,
 * and leaves the CloudFormation template in `--out`.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../stacks/bundle.ts";

/** The environment without anything AWS: no keys, no profile, no config files. */
function noCredentials(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  const nowhere = join(tmpdir(), "riffle-no-aws-config");
  return { ...env, AWS_CONFIG_FILE: nowhere, AWS_SHARED_CREDENTIALS_FILE: nowhere, AWS_EC2_METADATA_DISABLED: "true" };
}

function synth(args: string[]) {
  return spawnSync("npm", ["run", "--silent", "synth", "--", ...args], {
    cwd: ROOT,
    env: noCredentials(),
    encoding: "utf8",
    timeout: 90_000,
  });
}

describe("npm run synth", () => {
  it("synthesizes a job offline with no AWS credentials and prints a resource summary", () => {
    const out = mkdtempSync(join(tmpdir(), "riffle-synth-cli-"));
    const r = synth(["--job", "examples/nexmark/q5.ts", "--out", out, "--stage", "prod", "--parallelism", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("stack prod-riffle-nexmark-q5: job 'nexmark-q5', 3 task(s)");
    expect(r.stdout).toMatch(/task nexmark: parallelism 2, queue prod-riffle-nexmark-q5-0-nexmark\.fifo/);
    expect(r.stdout).toMatch(/^\s+6 AWS::SQS::Queue$/m);
    expect(r.stdout).toMatch(/^\s+3 AWS::Lambda::EventSourceMapping$/m);
    const file = join(out, "prod-riffle-nexmark-q5.template.json");
    expect(r.stdout).toContain(`template: ${file}`);
    expect(existsSync(file)).toBe(true);
    const template = JSON.parse(readFileSync(file, "utf8")) as {
      Resources: Record<string, { Type: string; DeletionPolicy?: string }>;
    };
    const all = Object.values(template.Resources);
    expect(all.filter((x) => x.Type === "AWS::StepFunctions::StateMachine")).toHaveLength(2);
    // The prod stage keeps its tables when the stack is removed.
    const tables = all.filter((x) => x.Type === "AWS::DynamoDB::Table");
    expect(tables.map((x) => x.DeletionPolicy)).toEqual(Array(5).fill("Retain"));
  }, 120_000);

  it("synthesizes a SQL script as a job (its ingest table an API route) and bundles it with its text", () => {
    const out = mkdtempSync(join(tmpdir(), "riffle-synth-cli-"));
    const r = synth(["--job", "examples/sql/click-counts.sql", "--out", out, "--stage", "dev"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("stack dev-riffle-click-counts: job 'click-counts'");
    const template = readFileSync(join(out, "dev-riffle-click-counts.template.json"), "utf8");
    expect(template).toContain("/jobs/{job}/sources/{source}/events");
    const bundle = readdirSync(out, { recursive: true }).find((f) => String(f).endsWith("entry.mjs"));
    expect(bundle, "the Lambda bundle").toBeDefined();
    const code = readFileSync(join(out, String(bundle)), "utf8");
    expect(code).toContain("CREATE TABLE clicks");
  }, 120_000);

  it("explains a missing --job or a job file that does not exist", () => {
    const none = synth([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("synth: --job is required");
    expect(none.stderr).toContain("usage: npm run synth -- --job <file>");
    const missing = synth(["--job", "examples/nope.ts", "--out", mkdtempSync(join(tmpdir(), "riffle-synth-cli-"))]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("cannot find job file 'examples/nope.ts'");
  }, 120_000);
});
