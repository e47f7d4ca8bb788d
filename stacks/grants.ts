/**
 * What each function's code may do to the job's tables and queues: the one place
 * that lists the DynamoDB actions per role and table. Grants are explicit action
 * lists on the table ARNs: CDK's `grantReadWriteData` would add the DynamoDB Streams
 * actions (`GetRecords`, `GetShardIterator`, `DescribeStream`, `ListStreams`), which no
 * riffle code calls, and `Scan`/`DescribeTable`/`ConditionCheckItem`, which none does
 * either. A `TransactWriteItems` is authorized per item (`PutItem`, …), so it needs
 * no action of its own.
 *
 * The coordinator's round function gets only what the steps a round runs issue:
 * {@link ROUND_GRANTS}, the union of {@link COORDINATOR_STEP_GRANTS}, one row per step,
 * read from `core/checkpoint/steps.ts` over the stores in `functions/aws/`; when a
 * step's code changes, adjust its row here. (One function per round costs one
 * invocation where a function per step cost three or four; the price is that the
 * round's role is the union of the steps' roles.)
 * `test/stacks/security.test.ts` checks the synthesized template against this table,
 * and `test/stacks/deployed-coordinator.test.ts` checks every request the deployed
 * functions make on the emulators against the synthesized policies.
 */

import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { TableNames } from "../functions/aws/dynamo-client.ts";
import type { Tables } from "./tables.ts";

/** A DynamoDB IAM action (without the `dynamodb:` prefix) that riffle's stores issue. */
export type DynamoAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem";

/** Every read the stores issue. */
export const DYNAMO_READ: readonly DynamoAction[] = ["GetItem", "BatchGetItem", "Query"];
/** Every write the stores issue. */
export const DYNAMO_WRITE: readonly DynamoAction[] = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];
/** Reads and writes. */
export const DYNAMO_READ_WRITE: readonly DynamoAction[] = [...DYNAMO_READ, ...DYNAMO_WRITE];

/** A table role: `log`, `state`, `checkpoints`, `ingest`, `output`. */
export type TableRole = keyof TableNames;

/** DynamoDB actions by table. */
export type TableGrants = { readonly [T in TableRole]?: readonly DynamoAction[] };

/**
 * An S3 action (without `s3:`) on the segment bucket: objects under the job's prefix,
 * `ListBucket` only with that prefix. `GetObject` reads payloads, `PutObject` writes
 * them (tasks only), `DeleteObject` drops the payloads of a lost append, a fold or a
 * truncate, and `ListBucket` finds the orphans a fold or a task reset sweeps.
 */
export type BucketAction = "GetObject" | "PutObject" | "DeleteObject" | "ListBucket";

/** What one coordinator step may do. */
export interface StepGrants {
  readonly tables: TableGrants;
  /** Segment-bucket actions. */
  readonly bucket: readonly BucketAction[];
  /** Sends barriers or start signals to the source tasks' queues. */
  readonly sendsToSources: boolean;
  /** Sends timer ticks and checkpoint-complete signals to the signalled tasks' queues (see the deployment plan). */
  readonly sendsSignals: boolean;
}

/** The coordinator steps that touch tables and queues (ContinueAsNew only starts an execution). */
export type TableStep = "trigger" | "poll" | "complete" | "abort" | "restore";

/**
 * What each step's code issues, per table:
 *
 * - trigger: the job record and a new manifest (`start` creates the record of a new
 *   job), then barriers (or start signals) to the sources; and, as poll does, the
 *   timer ticks of due processing-time timers (a query of the timer hints, an update
 *   marking each ticked) to the signalled tasks; before a due checkpoint, it reads the
 *   log past each cut (scale to zero: a quiet job's coordinator sleeps instead), and
 *   seals the logs before it sleeps, or when the job failed (`core/checkpoint/seal.ts`);
 * - poll: reads the record, manifests, acks and finished reports, writes completed
 *   (or aborted) manifests and the record, ticks due timers; never the log or state tables;
 * - complete: sends checkpoint-complete signals (and marks the manifest notified), reads the newest manifest, reads the log up to its cut, publishes its
 *   sink records and dead letters and raises the published marks (output table), writes
 *   and seals the dynamic tables' versions (output table; retention lists the savepoints,
 *   a query of the checkpoints table), then compacts: keyed values into the state table,
 *   the base, tombstones and the lease into the log table (the final checkpoint seals:
 *   the TTL of the last segments removed);
 * - abort: the manifest and the record; never the log or state tables;
 * - restore: first what complete does (the newest completed checkpoint's output is
 *   published before any log is cut), then the record, aborted manifests and finished
 *   reports; truncates every log (reads, void markers, the fence), registers partitions
 *   in the state table, and restarts the sources.
 *
 * On the segment bucket: complete and restore read payloads to publish and delete
 * those a fold or truncate drops, listing the partition to sweep orphans; trigger
 * reads no payload (its quiet check reads segments without) but sweeps after a seal;
 * poll and abort touch nothing.
 * No step writes a payload: only tasks append.
 */
export const COORDINATOR_STEP_GRANTS: { readonly [S in TableStep]: StepGrants } = {
  trigger: {
    // The quiet check of scale to zero (a segment past any cut?), then the seal before
    // it sleeps (the lease, and removing the TTL of the segments above each base), and
    // the sweep of objects the seal's base covers. A failed job's round seals the same way.
    tables: {
      checkpoints: ["GetItem", "Query", "PutItem", "UpdateItem"],
      log: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"],
    },
    bucket: ["DeleteObject", "ListBucket"],
    sendsToSources: true,
    sendsSignals: true,
  },
  poll: {
    tables: { checkpoints: ["GetItem", "Query", "PutItem", "UpdateItem"] },
    bucket: [],
    sendsToSources: false,
    sendsSignals: true,
  },
  complete: {
    tables: {
      // Query: the savepoints, whose table snapshots retention keeps (core/tables/publish-tables.ts).
      checkpoints: ["GetItem", "PutItem", "Query"],
      log: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
      state: ["BatchWriteItem"],
      output: ["Query", "PutItem", "UpdateItem", "BatchWriteItem"],
    },
    bucket: ["GetObject", "DeleteObject", "ListBucket"],
    sendsToSources: false,
    sendsSignals: true,
  },
  abort: { tables: { checkpoints: ["GetItem", "PutItem"] }, bucket: [], sendsToSources: false, sendsSignals: false },
  restore: {
    tables: {
      checkpoints: ["GetItem", "PutItem", "Query"],
      log: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
      state: ["UpdateItem", "BatchWriteItem"],
      output: ["Query", "PutItem", "UpdateItem", "BatchWriteItem"],
    },
    bucket: ["GetObject", "DeleteObject", "ListBucket"],
    sendsToSources: true,
    sendsSignals: false,
  },
};

/** The grants of every step in `steps` together: each table's actions merged, either send if any sends. */
export function unionGrants(steps: readonly StepGrants[]): StepGrants {
  const tables: Partial<Record<TableRole, DynamoAction[]>> = {};
  for (const g of steps) {
    for (const [role, actions] of Object.entries(g.tables) as [TableRole, readonly DynamoAction[]][]) {
      tables[role] = [...new Set([...(tables[role] ?? []), ...actions])];
    }
  }
  return {
    tables,
    bucket: [...new Set(steps.flatMap((g) => g.bucket))],
    sendsToSources: steps.some((g) => g.sendsToSources),
    sendsSignals: steps.some((g) => g.sendsSignals),
  };
}

/** The round function: a round may trigger, poll, complete, abort and restore (`core/checkpoint/round.ts`). */
export const ROUND_GRANTS: StepGrants = unionGrants(Object.values(COORDINATOR_STEP_GRANTS));

/**
 * What the autoscale round adds to the Poll and Complete steps of a job with
 * `autoscale` (`core/checkpoint/rescale.ts`), and to Trigger, which finishes a
 * rescale that died midway (a stale restore). A rescale is a restore at a new
 * parallelism: it stores, reads and deletes its in-place savepoint (checkpoints:
 * conditional put, batch-written data, delete), folds each cut into the values
 * (truncate, seal segment, compaction: log and state), drops the logs and installs
 * new bases (log), reads and extends the task registries (state), resets the
 * published marks (output: query and batch delete), and starts the sources. Reading
 * the scalable tasks' queue attributes and updating their event source mappings are
 * granted per resource in `functions.ts`.
 */
export const AUTOSCALE_GRANTS: StepGrants = {
  tables: {
    checkpoints: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    // UpdateItem: a compaction renews its lease while it works (`functions/aws/dynamo-lease.ts`).
    log: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    state: ["GetItem", "UpdateItem", "BatchWriteItem"],
    output: ["Query", "PutItem", "UpdateItem", "BatchWriteItem"],
  },
  bucket: ["GetObject", "DeleteObject", "ListBucket"],
  sendsToSources: true,
  sendsSignals: false,
};

/**
 * A task function: appends segments and reads its keyed state (log and state tables),
 * acks checkpoints and reads the job record (checkpoints table), and reads the ingest
 * log when it reads an HTTP source.
 */
export function taskGrants(readsIngest: boolean): TableGrants {
  return {
    log: DYNAMO_READ_WRITE,
    state: DYNAMO_READ_WRITE,
    checkpoints: DYNAMO_READ_WRITE,
    ...(readsIngest ? { ingest: DYNAMO_READ } : {}),
  };
}

/** A task function on the segment bucket: writes payloads, reads them (a cold partition's unsent outboxes), deletes a lost append's. */
export const TASK_BUCKET: readonly BucketAction[] = ["GetObject", "PutObject", "DeleteObject"];

/** The API function on the segment bucket: savepoints read payloads; savepoint restores publish, reset and fold. */
export const API_BUCKET: readonly BucketAction[] = ["GetObject", "DeleteObject", "ListBucket"];

/**
 * The HTTP API function: ingest, status, savepoints, restores and dead-letter replays
 * touch every table; its audit log is in the checkpoints table (`PutItem` per access,
 * `Query` to read it: `functions/aws/dynamo-audit-log.ts`), within these actions.
 */
export const API_GRANTS: TableGrants = {
  log: DYNAMO_READ_WRITE,
  state: DYNAMO_READ_WRITE,
  checkpoints: DYNAMO_READ_WRITE,
  ingest: DYNAMO_READ_WRITE,
  output: DYNAMO_READ_WRITE,
};

/** Adds one statement per granted table to `fn`'s role: exactly the listed actions, on that table's ARN. */
export function grantTables(fn: lambda.Function, tables: Tables, grants: TableGrants): void {
  for (const [role, actions] of Object.entries(grants) as [TableRole, readonly DynamoAction[]][]) {
    if (actions.length === 0) continue;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [tables[role].tableArn],
      }),
    );
  }
}

/**
 * Adds `fn`'s segment-bucket statements: the object actions on `<bucket>/<job>/*`,
 * and `ListBucket` on the bucket only for keys under `<job>/`.
 */
export function grantBucket(
  fn: lambda.Function,
  bucket: s3.IBucket,
  job: string,
  actions: readonly BucketAction[],
): void {
  const objects = actions.filter((a) => a !== "ListBucket");
  if (objects.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: objects.map((a) => `s3:${a}`),
        resources: [bucket.arnForObjects(`${job}/*`)],
      }),
    );
  }
  if (actions.includes("ListBucket")) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${job}/*`] } },
      }),
    );
  }
}

/**
 * `lambda:InvokeFunction` on exactly the functions a task's remote functions name
 * (`TaskDeployment.invokes`): an ARN as it is, a Python function the stack deploys
 * as its ARN, another bare name as the ARN of that function in the stack's account
 * and region. No wildcard, and nothing for a task
 * that invokes none.
 */
export function grantInvoke(
  fn: lambda.Function,
  functions: readonly string[],
  deployed: ReadonlyMap<string, lambda.IFunction> = new Map(),
): void {
  if (functions.length === 0) return;
  const stack = Stack.of(fn);
  const arns = functions.map((f) =>
    deployed.has(f)
      ? (deployed.get(f) as lambda.IFunction).functionArn
      : f.startsWith("arn:")
        ? f
        : stack.formatArn({
            service: "lambda",
            resource: "function",
            resourceName: f,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: arns }));
}
