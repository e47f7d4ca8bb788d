/**
 * fauxqs (an in-process SQS emulator) listening on loopback only. fauxqs checks no
 * credentials, and its `startFauxqs` always listens on 0.0.0.0 (its `host` option
 * only names the host in queue URLs), which would open the queues to the whole
 * network. This builds the same server with fauxqs's `buildApp` and listens on
 * 127.0.0.1 itself. Every emulator riffle starts (`riffle dev --runtime aws-local`,
 * tests, benchmarks) comes through here.
 */

import { buildApp } from "fauxqs";

/** The interface the local emulators listen on. */
export const LOOPBACK = "127.0.0.1";

/** A running local SQS. */
export interface LocalSqs {
  /** `http://127.0.0.1:<port>`: pass it to `sqsClient(endpoint)`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
}

/** Options of {@link startLocalSqs}. */
export interface LocalSqsOptions {
  /** Port to listen on (default 0: any free port). */
  readonly port?: number;
}

/** Starts fauxqs on 127.0.0.1 (in memory, no request log). */
export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const app = buildApp({ logger: false });
  await app.listen({ port: options.port ?? 0, host: LOOPBACK });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    stop: () => {
      stopped ??= app.close().then(() => {});
      return stopped;
    },
  };
}
