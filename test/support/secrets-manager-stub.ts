/**
 * A Secrets Manager stand-in on 127.0.0.1 that answers `GetSecretValue` (AWS JSON 1.1)
 * from a fixed map of secret ARN → string, and records every request. Point the SDK
 * at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 */

import { createServer } from "node:http";

/** A running stub. */
export interface SecretsManagerStub {
  readonly endpoint: string;
  /** Every request: its operation and the secret it named. */
  readonly requests: { readonly operation: string; readonly secretId: string }[];
  stop(): Promise<void>;
}

/** Starts the stub over `secrets` (ARN → SecretString). */
export async function startSecretsManagerStub(secrets: Readonly<Record<string, string>>): Promise<SecretsManagerStub> {
  const requests: { operation: string; secretId: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString("utf8");
    });
    req.on("end", () => {
      const operation = String(req.headers["x-amz-target"] ?? "").replace(/^secretsmanager\./, "");
      const secretId = String((JSON.parse(body || "{}") as { SecretId?: string }).SecretId ?? "");
      requests.push({ operation, secretId });
      const value = secrets[secretId];
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if (operation !== "GetSecretValue" || value === undefined) {
        res.statusCode = 400;
        const type = operation === "GetSecretValue" ? "ResourceNotFoundException" : "InvalidRequestException";
        res.end(JSON.stringify({ __type: type, message: `${operation} of ${secretId}: not in the stub` }));
        return;
      }
      res.end(
        JSON.stringify({ ARN: secretId, Name: secretId.split(":").at(-1), SecretString: value, VersionId: "v1" }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
