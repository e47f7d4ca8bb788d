/**
 * The embedded runtime's Prometheus metrics: well-formed text exposition (a HELP and
 * TYPE line before each family's samples, label values quoted), counters that equal
 * what the task runners counted, and `riffle run --metrics-port` serving them on
 * 127.0.0.1 while a job runs.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { prometheusText } from "../../core/runtime/prometheus.ts";

const SAMPLE = /^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/;

/** Parses the text format strictly: name → samples (labels, value). */
function parse(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const families = new Map<string, { labels: Record<string, string>; value: number }[]>();
  let current = "";
  for (const line of text.trimEnd().split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-z_]+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "HELP") current = meta[2] as string;
      else expect(["counter", "gauge"]).toContain(meta[3]);
      families.set(current, families.get(current) ?? []);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `malformed sample line: ${line}`).not.toBeNull();
    expect((m as RegExpExecArray)[1]).toBe(current);
    const labels = Object.fromEntries(
      [...((m as RegExpExecArray)[2] ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    families.get(current)?.push({ labels: labels as Record<string, string>, value: Number((m as RegExpExecArray)[3]) });
  }
  return families;
}

const job = defineJob("prom", (env) => {
  env
    .fromElements([1, 2, 3, 4, 5, 6, 7])
    .keyBy((n) => n % 3)
    .process<number>({
      processElement(n, ctx) {
        ctx.emit(n * 2);
      },
    })
    .sinkTo("out");
});

describe("Prometheus metrics of the embedded runtime", () => {
  it("are well-formed and count what the runners counted", async () => {
    const rt = new EmbeddedRuntime(job, { parallelism: 2 });
    await rt.run();
    const families = parse(prometheusText(rt));
    const total = (name: string, task: string) =>
      (families.get(name) ?? []).filter((s) => s.labels.task === task).reduce((n, s) => n + s.value, 0);
    const source = rt.plan.tasks.find((t) => t.isSource)?.id as string;
    const keyed = rt.plan.tasks.find((t) => t.keyed)?.id as string;
    expect(total("riffle_records_out_total", source)).toBe(7);
    expect(total("riffle_records_in_total", keyed)).toBe(7);
    expect(total("riffle_dead_letters_total", keyed)).toBe(0);
    expect((families.get("riffle_records_in_total") ?? []).map((s) => s.labels.job)).toContain("prom");
    expect(families.get("riffle_last_checkpoint_id")?.[0]?.value).toBe(rt.lastCheckpoint?.id);
    expect(total("riffle_segments_committed_total", keyed)).toBeGreaterThan(0);
  });

  it("`riffle run --metrics-port` serves them on 127.0.0.1 while the job runs", async () => {
    const root = join(import.meta.dirname, "../..");
    const child = spawn(
      process.execPath,
      ["bin/riffle.js", "run", "test/fixtures/unbounded.ts", "--metrics-port", "0", "--no-progress"],
      {
        cwd: root,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
    });
    try {
      const t0 = Date.now();
      while (!/metrics at (\S+)/.test(err)) {
        if (Date.now() - t0 > 30_000) throw new Error(`no metrics URL printed:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = (/metrics at (\S+)/.exec(err) as RegExpExecArray)[1] as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      let text = "";
      while (!/riffle_records_in_total\{job="forever"[^}]*\} [1-9]/.test(text)) {
        if (Date.now() - t0 > 30_000) throw new Error(`no records counted:\n${text}`);
        const res = await fetch(url);
        expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
        text = await res.text();
      }
      expect(parse(text).get("riffle_records_out_total")?.length).toBeGreaterThan(0);
      expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
    }
  }, 60_000);
});
