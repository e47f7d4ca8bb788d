#!/usr/bin/env node
// The riffle CLI. Node 22 runs the TypeScript sources directly (type stripping).
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`riffle needs Node.js 22 or newer, but this is ${process.version}.`);
  process.exit(1);
}
process.removeAllListeners("warning");
await import("../cli/main.ts");
