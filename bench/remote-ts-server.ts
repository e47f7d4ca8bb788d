/**
 * The bench's TypeScript remote function: `shout` (upper-case a word) behind the same
 * wire format as the Python SDK's server, on 127.0.0.1, in its own process. Beside
 * the Python server it separates what the transport costs from what Python costs.
 * Prints `riffle_sdk: listening on http://127.0.0.1:PORT/` on stderr, as the SDK does.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WIRE_VERSION, type WireRequest, type WireResponse } from "../core/remote/wire.ts";

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const r = JSON.parse(Buffer.concat(chunks).toString("utf8")) as WireRequest;
    const out: WireResponse = {
      v: WIRE_VERSION,
      id: r.id,
      groups: r.groups.map((g) => ({ out: g.values.map((v) => String(v).toUpperCase()) })),
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(out));
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stderr.write(`riffle_sdk: listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`);
});
