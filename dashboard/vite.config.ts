/**
 * Builds the dashboard into `dashboard/dist`, the files the HTTP API serves under
 * `/ui/` (`functions/http/dashboard.ts`). Relative asset paths, so the same build
 * works behind any base path; no inline script or style (the page's CSP forbids it).
 */
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
