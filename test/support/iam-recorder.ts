/**
 * An offline stand-in for IAM evaluation: records every AWS request a function makes
 * (attributed with AsyncLocalStorage while the function's handler runs, and read from
 * Node's `http.client.request.created` diagnostics channel, so it also sees the SDK
 * copy inside a bundled Lambda asset), turns each into the IAM actions and resource
 * ARNs AWS would authorize, and checks them against the function role's policy
 * statements (Allow only, `*` and `?` wildcards; the riffle stacks use no Deny).
 * JSON-protocol requests are told by their `x-amz-target`; a request without one is
 * taken as S3's REST protocol, path-style (`/<bucket>/<key>`). Statement conditions
 * (the `s3:prefix` of ListBucket) are not evaluated.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import dc from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";

/** One AWS request, made while function `fn` ran. */
export interface RecordedRequest {
  readonly fn: string;
  /** The `x-amz-target` header: `<service prefix>.<operation>`. */
  readonly target: string;
  // biome-ignore lint/suspicious/noExplicitAny: AWS JSON request bodies are free-form.
  readonly body: any;
  /** HTTP method and path (what identifies an S3 request). */
  readonly method?: string;
  readonly path?: string;
}

/** An IAM action on a resource ARN. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
}

const CHANNEL = "http.client.request.created";

/** Records the AWS JSON-protocol requests of functions run through {@link RequestRecorder.as}. */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];
  private readonly current = new AsyncLocalStorage<string>();
  private readonly onRequest = (message: unknown) => this.capture((message as { request: ClientRequest }).request);

  /** Starts recording. */
  start(): void {
    dc.subscribe(CHANNEL, this.onRequest);
  }

  /** Stops recording. */
  stop(): void {
    dc.unsubscribe(CHANNEL, this.onRequest);
  }

  /** `f` wrapped so that the requests it makes are attributed to `fn`. */
  as<A extends unknown[], R>(fn: string, f: (...args: A) => R): (...args: A) => R {
    return (...args) => this.current.run(fn, () => f(...args));
  }

  private capture(request: ClientRequest): void {
    const fn = this.current.getStore();
    if (fn === undefined) return;
    const chunks: Buffer[] = [];
    const take = (chunk: unknown) => {
      if (typeof chunk === "string" || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = request.write.bind(request);
    const end = request.end.bind(request);
    request.write = ((chunk: unknown, ...rest: never[]) => {
      take(chunk);
      return write(chunk as never, ...rest);
    }) as typeof request.write;
    request.end = ((chunk?: unknown, ...rest: never[]) => {
      take(chunk);
      const target = String(request.getHeader("x-amz-target") ?? "");
      const text = target ? Buffer.concat(chunks).toString("utf8") : ""; // S3 bodies are bytes
      this.requests.push({
        fn,
        target,
        body: text ? JSON.parse(text) : {},
        method: request.method,
        path: request.path,
      });
      return end(chunk as never, ...rest);
    }) as typeof request.end;
  }
}

/** How ARNs are made from what requests name. */
export interface ArnResolver {
  table(name: string): string;
  queue(url: string): string;
}

const SQS_BATCH: Record<string, string> = {
  SendMessageBatch: "SendMessage",
  DeleteMessageBatch: "DeleteMessage",
  ChangeMessageVisibilityBatch: "ChangeMessageVisibility",
};
const TRANSACT_ITEM: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
  Get: "GetItem",
};

/** The IAM actions and resources AWS authorizes for request `r`. */
export function iamRequests(r: RecordedRequest, arns: ArnResolver): IamRequest[] {
  const [service = "", op = ""] = r.target.split(".");
  const b = r.body;
  if (service.startsWith("DynamoDB_")) {
    const on = (action: string, table: string) => ({ action: `dynamodb:${action}`, resource: arns.table(table) });
    if (op === "BatchGetItem" || op === "BatchWriteItem")
      return Object.keys(b.RequestItems ?? {}).map((t) => on(op, t));
    if (op === "TransactWriteItems" || op === "TransactGetItems") {
      return (b.TransactItems ?? []).flatMap((item: Record<string, { TableName: string }>) =>
        Object.entries(item).map(([kind, x]) => on(TRANSACT_ITEM[kind] ?? `unknown-${kind}`, x.TableName)),
      );
    }
    return [on(op, String(b.TableName))];
  }
  if (service === "AmazonSQS")
    return [{ action: `sqs:${SQS_BATCH[op] ?? op}`, resource: arns.queue(String(b.QueueUrl)) }];
  if (service === "secretsmanager") return [{ action: `secretsmanager:${op}`, resource: String(b.SecretId) }];
  if (service === "AWSStepFunctions") return [{ action: `states:${op}`, resource: String(b.stateMachineArn) }];
  if (r.target === "" && r.path !== undefined) return [s3Request(r.method ?? "GET", r.path)];
  return [{ action: `unknown:${r.target}`, resource: "" }];
}

/** The IAM action and ARN of a path-style S3 REST request. */
function s3Request(method: string, path: string): IamRequest {
  const url = new URL(path, "http://s3");
  const [bucket = "", ...rest] = url.pathname.slice(1).split("/");
  const key = rest.map(decodeURIComponent).join("/");
  if (key === "") {
    if (method === "GET" || method === "HEAD") return { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}` };
    return { action: method === "PUT" ? "s3:CreateBucket" : `s3:${method}Bucket`, resource: `arn:aws:s3:::${bucket}` };
  }
  const action = method === "PUT" ? "PutObject" : method === "DELETE" ? "DeleteObject" : "GetObject";
  return { action: `s3:${action}`, resource: `arn:aws:s3:::${bucket}/${key}` };
}

/** A policy statement with its resources resolved to ARN strings. */
export interface ResolvedStatement {
  readonly Effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

function glob(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** True when some Allow statement grants `r.action` on `r.resource`. */
export function isAllowed(statements: readonly ResolvedStatement[], r: IamRequest): boolean {
  return statements.some(
    (s) =>
      s.Effect === "Allow" &&
      s.actions.some((a) => glob(a).test(r.action)) &&
      s.resources.some((x) => glob(x).test(r.resource)),
  );
}

/**
 * Every request of `requests` that its function's statements (`statementsOf(fn)`) do
 * not allow, as `<label>: <action> on <resource>` (each once).
 */
export function deniedRequests(
  requests: readonly RecordedRequest[],
  statementsOf: (fn: string) => readonly ResolvedStatement[],
  arns: ArnResolver,
  label: (fn: string) => string = (fn) => fn,
): string[] {
  const denied = new Set<string>();
  for (const r of requests) {
    const statements = statementsOf(r.fn);
    for (const req of iamRequests(r, arns)) {
      if (!isAllowed(statements, req)) denied.add(`${label(r.fn)}: ${req.action} on ${req.resource}`);
    }
  }
  return [...denied];
}
