/**
 * `npm run bench:cli [-- --runs N]`: how long the riffle CLI takes to start, as the
 * README invokes it (`./riffle …`) and through the alternatives, in wall-clock
 * milliseconds over N runs each (default 15), and the CPU time each used (user +
 * system, from GNU time when the machine has it). Prints JSON; the machine's load
 * average goes with it, because on a shared machine it moves the wall-clock figures.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const at = process.argv.indexOf("--runs");
const runs = at < 0 ? 15 : Number(process.argv[at + 1]);
if (!Number.isSafeInteger(runs) || runs < 1) {
  process.stderr.write("bench:cli: --runs needs a positive integer\n");
  process.exit(2);
}

const COMMANDS: Record<string, string[]> = {
  "./riffle --help": ["./riffle", "--help"],
  "./riffle --version": ["./riffle", "--version"],
  "./riffle plan examples/word-count.ts": ["./riffle", "plan", "examples/word-count.ts"],
  "node -e 0 (node's own start)": [process.execPath, "-e", "0"],
  "npm run -s riffle -- --help": ["npm", "run", "-s", "riffle", "--", "--help"],
};

/** GNU time, for the CPU time a command used (user + system): on a busy machine it moves far less than wall time. */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function time(argv: string[]): { wall: number; cpu: number | undefined } {
  const run = GNU_TIME ? [GNU_TIME, "-f", "@@cpu %U %S", ...argv] : argv;
  const t0 = performance.now();
  const r = spawnSync(run[0] as string, run.slice(1), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  const cpu = /@@cpu ([\d.]+) ([\d.]+)/.exec(String(r.stderr));
  return { wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const figures: Record<string, { medianMs: number; minMs: number; p90Ms: number; cpuMedianMs?: number }> = {};
const loadBefore = loadavg()[0] as number;
const round = (x: number | undefined) => Math.round((x ?? 0) * 10) / 10;
for (const [name, argv] of Object.entries(COMMANDS)) {
  time(argv); // warm the file cache
  const samples = Array.from({ length: runs }, () => time(argv));
  const ms = samples.map((s) => s.wall).sort((a, b) => a - b);
  const cpu = samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu])).sort((a, b) => a - b);
  figures[name] = {
    medianMs: round(quantile(ms, 0.5)),
    minMs: round(ms[0]),
    p90Ms: round(quantile(ms, 0.9)),
    ...(cpu.length ? { cpuMedianMs: round(quantile(cpu, 0.5)) } : {}),
  };
}
const report = {
  date: new Date().toISOString(),
  node: process.version,
  runs,
  loadAverage: [Math.round(loadBefore * 100) / 100, Math.round((loadavg()[0] as number) * 100) / 100],
  commands: figures,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
