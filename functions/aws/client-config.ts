/**
 * The one rule for building an AWS SDK client's configuration: the region, the endpoint
 * (an emulator's, or AWS's), dummy credentials for an emulator, and request timeouts.
 *
 * The SDK's HTTP handler has no request timeout by default, so a request whose response
 * never comes hangs its caller for ever. On AWS the Lambda's own timeout ends such an
 * invocation; in `riffle dev --runtime aws-local` nothing would, and a task holding a
 * queue's message group would stall every later message of it. With a timeout the
 * request fails as a `TimeoutError`, which the SDK's standard retry strategy retries.
 */

/** Timeouts of one client's requests, in milliseconds. */
export interface RequestTimeouts {
  /** Longest wait for a response once the request is sent. */
  readonly requestTimeoutMs: number;
  /** Longest wait for the TCP connection. */
  readonly connectionTimeoutMs?: number;
}

/** What every riffle client constructor takes: spread it into the client's options. */
export interface AwsClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly requestHandler: {
    readonly requestTimeout: number;
    readonly connectionTimeout: number;
    readonly throwOnRequestTimeout: true;
  };
}

/** Timeouts for request/response calls (DynamoDB, S3, SQS sends): well past a loaded emulator's slowest answer. */
export const CALL_TIMEOUTS: RequestTimeouts = { requestTimeoutMs: 30_000 };

/** Timeouts for SQS: past the longest long poll (`WaitTimeSeconds` ≤ 20) plus a loaded emulator's answer. */
export const SQS_TIMEOUTS: RequestTimeouts = { requestTimeoutMs: 50_000 };

/**
 * The configuration of a client for region `AWS_REGION` (default us-east-1). The endpoint
 * is `endpoint`, else the first set variable of `envNames` (default `AWS_ENDPOINT_URL`),
 * else AWS's. With a custom endpoint given explicitly, or any custom endpoint and no
 * `AWS_ACCESS_KEY_ID`, dummy credentials are used (local emulators do not check them).
 */
export function awsClientConfig(
  endpoint?: string,
  timeouts: RequestTimeouts = CALL_TIMEOUTS,
  envNames: readonly string[] = ["AWS_ENDPOINT_URL"],
): AwsClientConfig {
  const region = process.env.AWS_REGION ?? "us-east-1";
  const requestHandler = {
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs ?? 5_000,
    // Without it, @smithy/node-http-handler 4.x only logs a warning and the request hangs on.
    throwOnRequestTimeout: true as const,
  };
  const fromEnv = envNames.map((n) => process.env[n]).find((v) => v !== undefined && v !== "");
  const url = endpoint || fromEnv || undefined;
  if (url === undefined) return { region, requestHandler };
  const dummy = endpoint !== undefined || process.env.AWS_ACCESS_KEY_ID === undefined;
  return {
    region,
    endpoint: url,
    requestHandler,
    ...(dummy ? { credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" } } : {}),
  };
}
