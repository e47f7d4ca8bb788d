#!/usr/bin/env node
// The riffle CLI. Node 22 runs the TypeScript sources directly (type stripping).
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`riffle needs Node.js 22 or newer, but this is ${process.version}.`);
  process.exit(1);
}
process.removeAllListeners("warning");
// A closed pipe (`riffle … | head`) ends the output quietly.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
await import("../cli/main.ts");
