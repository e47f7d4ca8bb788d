/**
 * The cost-against-rate plot: dollars per day against the mean event rate of the
 * bursty day's shape, for riffle (as measured on the emulators) and for Amazon
 * Managed Service for Apache Flink sized for the day's peak and at its 2-KPU floor.
 * Hand-written SVG on log-log axes from a benchmark report's `aws.bursty` figure;
 * no dependency.
 */

import type { BurstyDayFigure, CostPoint } from "./bursty-figures.ts";

/** What the plot says about its run, printed under it. */
export interface PlotSource {
  /** ISO date of the run. */
  readonly date: string;
  readonly quick: boolean;
}

const W = 800;
const H = 480;
const M = { left: 78, right: 40, top: 52, bottom: 112 };
const SERIES: readonly { key: keyof Omit<CostPoint, "meanRate">; label: string; color: string; dash?: string }[] = [
  { key: "riffle", label: "riffle (measured on the emulators, extrapolated)", color: "#d9480f" },
  { key: "flinkPeakSized", label: "Managed Flink sized for the peak (50× the mean)", color: "#1c7ed6" },
  { key: "flinkFloor", label: "Managed Flink at its 2-KPU floor", color: "#1c7ed6", dash: "6 4" },
];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (x: number) =>
  x >= 1 ? x.toLocaleString("en", { maximumFractionDigits: 0 }) : String(Number(x.toPrecision(2)));

/** Log axis from decade `lo` to decade `hi` onto pixels `[a, b]`. */
function axis(lo: number, hi: number, a: number, b: number) {
  return (v: number) => a + ((Math.log10(v) - lo) / (hi - lo)) * (b - a);
}

/** The SVG document of `fig`'s cost curve. */
export function costSvg(fig: BurstyDayFigure, source: PlotSource): string {
  const pts = fig.byMeanRate.filter((p) => p.meanRate > 0);
  const values = pts.flatMap((p) => SERIES.map((s) => p[s.key])).filter((v) => v > 0);
  const xlo = Math.floor(Math.log10(pts[0]?.meanRate ?? 0.1));
  const xhi = Math.ceil(Math.log10(pts.at(-1)?.meanRate ?? 1e5));
  const ylo = Math.floor(Math.log10(Math.min(...values)));
  const yhi = Math.ceil(Math.log10(Math.max(...values)));
  const x = axis(xlo, xhi, M.left, W - M.right);
  const y = axis(ylo, yhi, H - M.bottom, M.top);
  const title = "Cost per day against mean event rate (bursty day: idle hours, peak 50× the mean)";
  const desc =
    `At the bursty day's mean of ${fmt(fig.profile.meanRate)} events/s riffle costs $${fig.riffle.dollarsPerDay} a day, ` +
    `Managed Flink $${fig.flink.peakSized.dollarsPerDay} sized for the peak and $${fig.flink.floor.dollarsPerDay} at its floor.`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<desc>${esc(desc)}</desc>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...grid(xlo, xhi, ylo, yhi, x, y),
    ...SERIES.map((s) => line(pts, s, x, y)),
    ...marker(fig, x, y),
    ...legend(),
    ...footer(fig, source),
    "</svg>",
  ];
  return `${out.join("\n")}\n`;
}

function grid(
  xlo: number,
  xhi: number,
  ylo: number,
  yhi: number,
  x: (v: number) => number,
  y: (v: number) => number,
): string[] {
  const lines: string[] = [];
  for (let e = xlo; e <= xhi; e++) {
    const px = x(10 ** e).toFixed(1);
    lines.push(`<line x1="${px}" y1="${M.top}" x2="${px}" y2="${H - M.bottom}" stroke="#e9ecef"/>`);
    lines.push(`<text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(10 ** e)}</text>`);
  }
  for (let e = ylo; e <= yhi; e++) {
    const py = y(10 ** e).toFixed(1);
    lines.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#e9ecef"/>`);
    lines.push(
      `<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">$${fmt(10 ** e)}</text>`,
    );
  }
  const bottom = H - M.bottom;
  lines.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${bottom - M.top}" fill="none" stroke="#868e96"/>`,
  );
  lines.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${bottom + 34}" text-anchor="middle">mean event rate over the day (events/s, log scale)</text>`,
  );
  lines.push(
    `<text transform="translate(18 ${(M.top + bottom) / 2}) rotate(-90)" text-anchor="middle">dollars per day (log scale)</text>`,
  );
  return lines;
}

function line(
  pts: readonly CostPoint[],
  s: (typeof SERIES)[number],
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  const d = pts
    .filter((p) => p[s.key] > 0)
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.meanRate).toFixed(1)},${y(p[s.key]).toFixed(1)}`)
    .join(" ");
  const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
  return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"${dash}/>`;
}

/** The measured day (mean 50 events/s): riffle's and Managed Flink's dollars. */
function marker(fig: BurstyDayFigure, x: (v: number) => number, y: (v: number) => number): string[] {
  const m = fig.profile.meanRate;
  const r = fig.riffle.dollarsPerDay;
  const f = fig.flink.floor.dollarsPerDay;
  const px = x(m).toFixed(1);
  return [
    `<circle cx="${px}" cy="${y(r).toFixed(1)}" r="4.5" fill="#d9480f"/>`,
    `<text x="${(x(m) + 8).toFixed(1)}" y="${(y(r) - 8).toFixed(1)}" fill="#d9480f">the bursty day (${fmt(m)} events/s): riffle $${r.toFixed(2)}</text>`,
    `<circle cx="${px}" cy="${y(f).toFixed(1)}" r="4.5" fill="#1c7ed6"/>`,
    `<text x="${(x(m) + 8).toFixed(1)}" y="${(y(f) + 16).toFixed(1)}" fill="#1c7ed6">Managed Flink $${f.toFixed(2)}</text>`,
  ];
}

function legend(): string[] {
  return SERIES.flatMap((s, i) => {
    const ly = M.top + 14 + i * 18;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    return [
      `<line x1="${M.left + 12}" y1="${ly}" x2="${M.left + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2.2"${dash}/>`,
      `<text x="${M.left + 46}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`,
    ];
  });
}

function footer(fig: BurstyDayFigure, source: PlotSource): string[] {
  const y0 = H - M.bottom + 56;
  const notes = [
    `riffle: $${fig.dollarsPerIdleHour.total} per idle hour + $${fig.dollarsPerMillionEvents.total} per million events + storage (estimate), ` +
      "measured on aws-local (fauxqs, DynamoDB Local,",
    `aws-local-stepfunctions) in ${source.quick ? "a --quick run" : "a full run"} of ${source.date.slice(0, 10)}, ` +
      `each hour compressed to ${fig.run.secondsPerHour} s; per-event cost as measured at the day's own rates.`,
    `Managed Flink: $${fig.flink.perKpuHour} per KPU-hour + ${fig.flink.storageGbPerKpu} GB of storage per KPU; ` +
      `KPUs = ceil(peak / ${fmt(fig.flink.perCore)} per core (${fig.flink.perCoreFrom})) + 1.`,
    "List prices of bench/prices.json (us-east-1, on demand, no free tier). Drawn by bench/cost-svg.ts from the benchmark's JSON.",
  ];
  return notes.map((t, i) => `<text x="${M.left}" y="${y0 + i * 15}" font-size="10.5" fill="#495057">${esc(t)}</text>`);
}
