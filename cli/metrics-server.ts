/**
 * `riffle run --metrics-port`: the embedded runtime's Prometheus metrics
 * (`core/runtime/prometheus.ts`) at `GET /metrics`, on 127.0.0.1 only (it has no
 * credential, so it never listens beyond this machine).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { EmbeddedRuntime } from "../core/runtime/embedded.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "../core/runtime/prometheus.ts";

/** Serves `runtime`'s metrics on `port` (0: any free one); resolves with its URL and a close function. */
export async function serveMetrics(
  runtime: EmbeddedRuntime,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("use GET\n");
      return;
    }
    res
      .writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE })
      .end(req.method === "HEAD" ? "" : prometheusText(runtime));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  server.unref();
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
