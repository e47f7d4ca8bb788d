#!/usr/bin/env node
// Fails fast when scripts run on a node older than 22 (e.g. after `npm ci --ignore-scripts`,
// which leaves no node 22 binary in node_modules/.bin and npm falls back to the system node).
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    `riffle needs Node.js 22 or newer, but this is ${process.version}. Run \`npm ci\` (without --ignore-scripts) so the pinned node 22 lands in node_modules/.bin, or install Node 22.`,
  );
  process.exit(1);
}
