/**
 * The HTTP API: an API Gateway HTTP API (payload 2.0) with one route per riffle
 * route (`functions/http/routes.ts`), all integrated with the API function, and the
 * credential it checks: a generated Secrets Manager secret, resolved by
 * CloudFormation into the function's `RIFFLE_API_KEYS` at deploy time. The gateway
 * itself has no authorizer: the function authenticates every request first (401
 * before anything else; see `functions/http/auth.ts`).
 */

import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { ROUTES, routeMethods } from "../functions/http/routes.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";

/** The API's credential. */
export interface ApiSecret {
  readonly secret: secretsmanager.Secret;
  /** Environment that wires it into the API function. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Creates the secret (a 40-character key). `version` is copied into the function's
 * environment as `RIFFLE_API_KEYS_VERSION`: changing it (after a rotation) makes
 * CloudFormation update the function and resolve the secret again.
 */
export function createApiSecret(scope: Construct, d: DeploymentPlan, version: string): ApiSecret {
  const secret = new secretsmanager.Secret(scope, "ApiKeys", {
    description: `riffle job '${d.job}': HTTP API keys (comma-separated)`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
  });
  return {
    secret,
    environment: { RIFFLE_API_KEYS: secret.secretValue.unsafeUnwrap(), RIFFLE_API_KEYS_VERSION: version },
  };
}

/** Every `METHOD path` the API serves (HEAD with every GET). */
export function apiRoutes(): { method: string; path: string }[] {
  return ROUTES.flatMap((r) => routeMethods(r).map((method) => ({ method, path: r.path })));
}

/** Creates the HTTP API in front of `fn`. */
export function createHttpApi(scope: Construct, d: DeploymentPlan, fn: lambda.IFunction): apigw.HttpApi {
  const api = new apigw.HttpApi(scope, "HttpApi", {
    apiName: `${d.prefix}-api`,
    description: `riffle job '${d.job}'`,
    createDefaultStage: true,
  });
  const integration = new HttpLambdaIntegration("ApiIntegration", fn, {
    payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
  });
  for (const r of apiRoutes()) {
    api.addRoutes({ path: r.path, methods: [r.method as apigw.HttpMethod], integration });
  }
  return api;
}
