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

/** Where one client goes and how it signs; every field is optional. */
export interface ClientTarget {
  /** The endpoint given explicitly; else the first set variable of `envNames`, else AWS's. */
  readonly endpoint?: string;
  /** Default `AWS_REGION`, else us-east-1. */
  readonly region?: string;
  /** Default {@link CALL_TIMEOUTS}. */
  readonly timeouts?: RequestTimeouts;
  /** Default `AWS_ENDPOINT_URL`. */
  readonly envNames?: readonly string[];
  /**
   * True when an explicit `endpoint` is a user's and may be AWS's own (a connector's
   * option): dummy credentials then only without `AWS_ACCESS_KEY_ID`, as for an endpoint
   * from the environment. Riffle's own explicit endpoints are emulators' (always dummy).
   */
  readonly userEndpoint?: boolean;
}

/**
 * The configuration of a client for `target` (see {@link ClientTarget}). With a custom
 * endpoint given explicitly (not a user's), or any custom endpoint and no
 * `AWS_ACCESS_KEY_ID`, dummy credentials are used (local emulators do not check them).
 */
export function clientConfigFor(target: ClientTarget): AwsClientConfig {
  const { endpoint, timeouts = CALL_TIMEOUTS, envNames = ["AWS_ENDPOINT_URL"] } = target;
  const region = target.region ?? process.env.AWS_REGION ?? "us-east-1";
  const requestHandler = {
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs ?? 5_000,
    // Without it, @smithy/node-http-handler 4.x only logs a warning and the request hangs on.
    throwOnRequestTimeout: true as const,
  };
  const fromEnv = envNames.map((n) => process.env[n]).find((v) => v !== undefined && v !== "");
  const url = endpoint || fromEnv || undefined;
  if (url === undefined) return { region, requestHandler };
  const explicit = endpoint !== undefined && target.userEndpoint !== true;
  const dummy = explicit || process.env.AWS_ACCESS_KEY_ID === undefined;
  return {
    region,
    endpoint: url,
    requestHandler,
    ...(dummy ? { credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" } } : {}),
  };
}

/**
 * The configuration of a client of riffle's own for region `AWS_REGION` (default
 * us-east-1): {@link clientConfigFor} with `endpoint` (an emulator's when given),
 * `timeouts` and `envNames`.
 */
export function awsClientConfig(
  endpoint?: string,
  timeouts: RequestTimeouts = CALL_TIMEOUTS,
  envNames: readonly string[] = ["AWS_ENDPOINT_URL"],
): AwsClientConfig {
  return clientConfigFor({ endpoint, timeouts, envNames });
}
