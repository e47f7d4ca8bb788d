/**
 * What one chaos sequence records: the operation log, the violations, and the
 * minimal reproduction printed for each violation.
 */

/** The two runtimes the fuzzer drives. */
export type Runtime = "embedded" | "aws-local";

/** One operation the driver performed, and how it came out. */
export interface OpEntry {
  readonly i: number;
  readonly op: string;
  detail: string;
  outcome: string;
  /** When it began, in ms since the sequence began. */
  readonly at: number;
}

/** A broken rule. */
export interface Violation {
  /** Index of the operation after which it was seen (-1: in the final check). */
  readonly op: number;
  readonly message: string;
  /** The last lines of the relevant process's stderr. */
  readonly stderr: string;
}

/** The result of one seed. */
export interface SeedResult {
  readonly seed: number;
  readonly runtime: Runtime;
  readonly ops: OpEntry[];
  readonly violations: Violation[];
  /** Free-form facts worth reporting (an unsupported command, pending dead letters). */
  readonly notes: string[];
  readonly seconds: number;
  /** aws-local, when the seed broke the oracle: the stderr of each `riffle dev` it ran. */
  readonly serverLog?: string[];
}

/** An operation log with violations, shared by both drivers. */
export class Journal {
  readonly ops: OpEntry[] = [];
  readonly violations: Violation[] = [];
  readonly notes: string[] = [];
  private readonly echo: ((line: string) => void) | undefined;
  private echoed = 0;
  private readonly t0 = performance.now();

  constructor(echo?: (line: string) => void) {
    this.echo = echo;
  }

  /** Starts an operation; set `outcome` on the returned entry when it ends. */
  begin(op: string, detail = ""): OpEntry {
    this.flush();
    const e: OpEntry = { i: this.ops.length, op, detail, outcome: "", at: Math.round(performance.now() - this.t0) };
    this.ops.push(e);
    return e;
  }

  /** Echoes the operations not echoed yet (verbose runs). */
  flush(): void {
    for (; this.echoed < this.ops.length; this.echoed++) {
      const o = this.ops[this.echoed] as OpEntry;
      this.echo?.(`  #${o.i} ${o.op}${o.detail ? ` ${o.detail}` : ""} → ${o.outcome}`);
    }
  }

  /** Records a broken rule. */
  violate(message: string, stderr = ""): void {
    this.flush();
    this.violations.push({ op: this.ops.length - 1, message, stderr });
    this.echo?.(`  VIOLATION ${message}`);
  }

  /** Records a fact once. */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Counts per kind of operation. */
  mix(): Record<string, number> {
    const m: Record<string, number> = {};
    for (const o of this.ops) m[o.op] = (m[o.op] ?? 0) + 1;
    return m;
  }
}

/** A reproduction of every violation of `r`: the command, the operations up to it, stderr. */
export function reproduction(r: SeedResult, opsArg: number): string {
  const lines = [
    `VIOLATION(S) runtime ${r.runtime} seed ${r.seed}: ${r.violations.length}`,
    `  repro: npm run chaos -- --runtime ${r.runtime} --seed ${r.seed} --ops ${opsArg}  (timing-dependent ops may land differently)`,
    "  ops:",
    ...r.ops.map((o) => `    #${o.i} ${o.op}${o.detail ? ` ${o.detail}` : ""} → ${o.outcome}`),
  ];
  for (const v of r.violations.slice(0, 12)) {
    lines.push(`  after #${v.op}: ${v.message}`);
    if (v.stderr) lines.push(...v.stderr.split("\n").map((l) => `      | ${l}`));
  }
  if (r.violations.length > 12) lines.push(`  … and ${r.violations.length - 12} more`);
  return lines.join("\n");
}
