/** The live progress line `riffle run` shows on a TTY. */

import type { EmbeddedRuntime } from "../core/runtime/embedded.ts";

/** Formats a count compactly (1.2k, 3.4M). */
export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Redraws one status line on stderr every `intervalMs` while started. */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private lastIn = 0;
  private lastAt = performance.now();
  private readonly rt: EmbeddedRuntime;
  private readonly out: NodeJS.WriteStream;

  constructor(rt: EmbeddedRuntime, out: NodeJS.WriteStream = process.stderr) {
    this.rt = rt;
    this.out = out;
  }

  start(intervalMs = 250): void {
    if (!this.out.isTTY) return;
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  private draw(): void {
    const p = this.rt.progress();
    const total = this.rt.sourceRecords();
    const now = performance.now();
    const rate = ((total - this.lastIn) * 1000) / Math.max(1, now - this.lastAt);
    this.lastIn = total;
    this.lastAt = now;
    const backlog = p.map((t) => `${t.task} ${t.backlog}`).join(", ");
    const cp = this.rt.lastCheckpoint;
    const last = cp
      ? ` · checkpoint ${cp.id} ${Math.max(0, Math.round((Date.now() - (cp.completedAt ?? 0)) / 1000))}s ago`
      : "";
    const line = `${compact(rate)} records/s · ${compact(total)} read${last} · backlog: ${backlog}`;
    this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 120) - 1)}`);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write("\r\x1b[2K");
  }
}
