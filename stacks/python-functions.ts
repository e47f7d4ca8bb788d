/**
 * Python remote functions deployed beside the job (`configureAws({ pythonFunctions })`):
 * each is a Python 3.12 Lambda function named as the job's remote functions name it,
 * its code the module's file with `sdk/python/riffle_sdk` (standard library only, so
 * nothing else is installed). The task functions that name one may invoke exactly it.
 */

import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import type { PythonFunctionConfig } from "../core/api/aws-config.ts";
import { RiffleError } from "../core/errors.ts";

const SDK = join(import.meta.dirname, "..", "sdk", "python", "riffle_sdk");

/** The deployed functions by name. */
export function createPythonFunctions(
  scope: Construct,
  functions: Readonly<Record<string, PythonFunctionConfig>>,
  defaults: { readonly memoryMb: number; readonly timeoutSeconds: number },
): Map<string, lambda.Function> {
  const out = new Map<string, lambda.Function>();
  Object.entries(functions).forEach(([name, f], i) => {
    const file = resolve(f.file);
    const dir = mkdtempSync(join(tmpdir(), "riffle-python-"));
    try {
      cpSync(file, join(dir, basename(file)));
    } catch (cause) {
      throw new RiffleError("deploy-config", `pythonFunctions['${name}']: cannot read ${file}`, { cause });
    }
    cpSync(SDK, join(dir, "riffle_sdk"), { recursive: true, filter: (src) => !src.includes("__pycache__") });
    const fn = new lambda.Function(scope, `Python${i}`, {
      functionName: name,
      description: `riffle remote function '${name}' (${f.file})`,
      runtime: lambda.Runtime.PYTHON_3_12,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(dir),
      handler: `${basename(file, ".py")}.${f.handler ?? "handler"}`,
      memorySize: f.memoryMb ?? defaults.memoryMb,
      timeout: Duration.seconds(f.timeoutSeconds ?? defaults.timeoutSeconds),
    });
    out.set(name, fn);
  });
  return out;
}
