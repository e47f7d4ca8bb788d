/**
 * The HTTP API: an API Gateway HTTP API (payload 2.0) with one route per riffle
 * route (`functions/http/routes.ts`), all integrated with the API function, its
 * `$default` stage throttled (the job's `aws.apiThrottle`), and the credential the
 * function checks: a generated Secrets Manager secret. The function's environment
 * names the secret (`RIFFLE_API_KEYS_SECRET`, its ARN), never its value: the function
 * reads it at run time, cached for a minute (`functions/aws/secret-keys.ts`), so a
 * rotated key needs no redeploy. The gateway itself has no authorizer: the function
 * authenticates every request first (401 before anything else; see
 * `functions/http/auth.ts`).
 */

import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { API_KEYS_SECRET_VAR } from "../functions/http/auth.ts";
import { DASHBOARD_PATH } from "../functions/http/dashboard.ts";
import { ROUTES, routeMethods } from "../functions/http/routes.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";

/** The API's credential. */
export interface ApiSecret {
  readonly secret: secretsmanager.Secret;
  /** Environment that wires it into the API function: the secret's ARN, not its value. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Creates the secret: a generated 40-character key (one principal with every grant);
 * replace its value with comma-separated keys, or with a principals document of key
 * digests, grants and policies (`core/governance/principals-config.ts`).
 */
export function createApiSecret(scope: Construct, d: DeploymentPlan): ApiSecret {
  const secret = new secretsmanager.Secret(scope, "ApiKeys", {
    description: `riffle job '${d.job}': HTTP API keys (comma-separated) or a principals document`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
  });
  return { secret, environment: { [API_KEYS_SECRET_VAR]: secret.secretArn } };
}

/** Every `METHOD path` the API serves (HEAD with every GET), the dashboard's files included. */
export function apiRoutes(): { method: string; path: string }[] {
  const dashboard = [DASHBOARD_PATH, `${DASHBOARD_PATH}/{proxy+}`].flatMap((path) =>
    ["GET", "HEAD"].map((method) => ({ method, path })),
  );
  return [...ROUTES.flatMap((r) => routeMethods(r).map((method) => ({ method, path: r.path }))), ...dashboard];
}

/** Creates the HTTP API in front of `fn`. */
export function createHttpApi(scope: Construct, d: DeploymentPlan, fn: lambda.IFunction): apigw.HttpApi {
  const api = new apigw.HttpApi(scope, "HttpApi", {
    apiName: `${d.prefix}-api`,
    description: `riffle job '${d.job}'`,
    createDefaultStage: false,
  });
  // The stage HttpApi would create (same id, so the same logical id), with default route throttling.
  api.addStage("DefaultStage", {
    stageName: "$default",
    autoDeploy: true,
    throttle: { rateLimit: d.aws.apiThrottle.rateLimit, burstLimit: d.aws.apiThrottle.burstLimit },
  });
  const integration = new HttpLambdaIntegration("ApiIntegration", fn, {
    payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
  });
  for (const r of apiRoutes()) {
    api.addRoutes({ path: r.path, methods: [r.method as apigw.HttpMethod], integration });
  }
  return api;
}
