/**
 * Names the known defect behind a violation, where its message shows it, so that
 * a fuzz run's summary says which defects it found and with which seeds. A
 * violation that matches no rule is reported as "other" (look at it).
 */

import type { SeedResult, Violation } from "./report.ts";

type Rule = readonly [title: string, test: (v: Violation, r: SeedResult) => boolean];

const has = (re: RegExp) => (v: Violation) => re.test(v.message);

/** A duplicate in the era of restore X after a later run reused `--from-savepoint X`. */
function restoredAgain(v: Violation, r: SeedResult): boolean {
  const m = /^era \d+ \(restore '([^']+)'[^)]*\): .*(duplicate|after its fin)/.exec(v.message);
  if (!m) return false;
  const flag = `--from-savepoint ${m[1]}`;
  const restoredAt = r.ops.findIndex((o) => o.op === "restore" && o.detail.startsWith(flag));
  return r.ops.some((o, i) => i > restoredAt && o.op !== "restore" && o.detail.includes(flag));
}

const RULES: readonly Rule[] = [
  ["(1) a restore right after a savepoint loses committed output", has(/^generation \d+ \(restore .*output lost/)],
  [
    "(2) a dead letter that fails again after a replay is dropped",
    has(/ends at fin 0, .*poison record is neither committed.*\(replayed at(?!.*a restore after its last replay)/),
  ],
  [
    "new: a replayed dead letter is lost when a restore follows the replay",
    has(/ends at fin 0, .*a restore after its last replay/),
  ],
  [
    "new (embedded twin of 1): a restore skips the unpublished output of its savepoint's checkpoint",
    has(/^era \d+ \(restore .*output lost/),
  ],
  ["(3) a full disk under --out commits a short write", has(/torn line|is not a committed row/)],
  ["(5) a rerun with the same --from-savepoint restores the savepoint again", restoredAgain],
  ["(6) a deleted or zero-length riffle.db is taken for a new job", has(/^db-(delete|truncate) /)],
  ["(7) reusing a savepoint name reports success", has(/^reusing savepoint name .*: (exit 0|201)/)],
  [
    "new: a run refused at start (unknown --from-savepoint, another -p) prints several lines",
    has(/^(restore-unknown|wrong-p) .*not refused with one clear line.*: exit 2$/),
  ],
  ["new: a refused rerun at another -p changes files", has(/^wrong-p .*changed/)],
  ["new: a savepoint restore gives up (503) and leaves the job stuck", has(/^restore of savepoint .*503/)],
  [
    "new: aws-local stops committing (no checkpoint completes)",
    has(/^(no count committed|the job did not drain|savepoint \S+: no answer)/),
  ],
  ["new: a savepoint request answers 500", has(/^savepoint \S+ answered 500/)],
];

/** Seeds with a known defect and more violations (often its consequences: read the reproduction). */
const OTHER_TOO = "other violations in a seed with a known defect (see its reproduction)";

/** The title of the defect behind `v`, or `other: <message>`. */
export function classify(v: Violation, r: SeedResult): string {
  for (const [title, test] of RULES) if (test(v, r)) return title;
  return `other: ${v.message.slice(0, 100)}`;
}

/**
 * Per defect title, the seeds that showed it. Violations that follow from an
 * earlier one in the same seed (an era's count after its output was lost, a key's
 * final count) are attributed to that earlier one.
 */
export function findings(results: readonly SeedResult[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of results) {
    const counted = r.violations.filter((v) => !/: … and \d+ more violations$/.test(v.message));
    const titles = new Set(counted.map((v) => classify(v, r)));
    const root = [...titles].filter((t) => !t.startsWith("other"));
    const rest = [...titles].filter((t) => t.startsWith("other"));
    const shown = root.length > 0 && rest.length > 0 ? [...root, OTHER_TOO] : [...root, ...rest];
    for (const t of shown) out[t] = [...(out[t] ?? []), r.seed];
  }
  return out;
}
