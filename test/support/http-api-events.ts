/**
 * Helpers for calling the HTTP API handler directly: API Gateway v2 events as
 * API Gateway builds them, and a handler over the in-memory JobControl double.
 */

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createHttpApi, type HttpApiOptions } from "../../functions/http/api.ts";
import { fakeJobs } from "./fake-job-control.ts";

/** The key the test handlers accept. */
export const KEY = "s3cret-key";

/** What {@link event} builds an event from. */
export interface EventSpec {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly base64?: boolean;
  readonly query?: Record<string, string>;
  /** Omit the default bearer credential. */
  readonly anonymous?: boolean;
}

/** An API Gateway v2 event (with the test key as bearer unless `anonymous`). */
export function event(spec: EventSpec): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = spec.anonymous ? {} : { authorization: `Bearer ${KEY}` };
  Object.assign(headers, spec.headers);
  const rawQueryString = new URLSearchParams(spec.query ?? {}).toString();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: spec.path,
    rawQueryString,
    headers,
    ...(spec.query ? { queryStringParameters: spec.query } : {}),
    requestContext: {
      accountId: "test",
      apiId: "test",
      domainName: "test.local",
      domainPrefix: "test",
      http: {
        method: spec.method ?? "GET",
        path: spec.path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "t",
      },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    ...(spec.body === undefined ? {} : { body: spec.body }),
    isBase64Encoded: spec.base64 ?? false,
  };
}

/** A handler over fake jobs `shop` and `my job`; `call` parses the JSON body. */
export function setup(options: Partial<HttpApiOptions> = {}) {
  const { jobs, controls } = fakeJobs("shop", "my job");
  const logged: string[] = [];
  const handler = createHttpApi({ jobs, credentials: [KEY], log: (l) => logged.push(l), ...options });
  const shop = controls.get("shop");
  if (!shop) throw new Error("no fake job 'shop'");
  const call = async (spec: EventSpec) => {
    const res = await handler(event(spec));
    return { ...res, json: JSON.parse(res.body) as Record<string, unknown> };
  };
  return { handler, shop, controls, logged, call };
}

/** A POST with a JSON body (a string body is sent as is). */
export const post = (path: string, body: unknown, headers?: Record<string, string>): EventSpec => ({
  path,
  method: "POST",
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers },
});
/** The ingest path of the fake `clicks` source. */
export const EVENTS = "/jobs/shop/sources/clicks/events";
