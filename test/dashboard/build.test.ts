/**
 * The committed dashboard build (`dashboard/dist`, what `riffle dev` and the deployed
 * API serve, so a user never builds it) is exactly what `npm run build:dashboard`
 * makes of the sources, and its JS and CSS stay under 300 KB gzipped.
 */

import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { describe, expect, it } from "vitest";

const DASHBOARD = join(import.meta.dirname, "../../dashboard");

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe("the dashboard build", () => {
  it("is committed as built from its sources, under 300 KB gzipped", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "riffle-dashboard-"));
    await build({ configFile: join(DASHBOARD, "vite.config.ts"), build: { outDir, emptyOutDir: true } });
    const fresh = files(outDir);
    const committed = files(join(DASHBOARD, "dist"));
    expect([...committed.keys()].sort(), "run `npm run build:dashboard` and commit dashboard/dist").toEqual(
      [...fresh.keys()].sort(),
    );
    for (const [name, bytes] of fresh) expect(committed.get(name)?.equals(bytes), name).toBe(true);
    const assets = [...fresh].filter(([name]) => /\.(js|css)$/.test(name));
    expect(assets.length).toBeGreaterThanOrEqual(2);
    const gzipped = assets.reduce((n, [, bytes]) => n + gzipSync(bytes, { level: 9 }).length, 0);
    expect(gzipped).toBeLessThan(300 * 1024);
    // No inline script or style: the page's CSP forbids them.
    const html = fresh.get("index.html")?.toString("utf8") ?? "";
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
  }, 120_000);
});
