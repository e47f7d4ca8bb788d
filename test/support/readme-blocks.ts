/**
 * The README's code blocks, as the README test runs them: parsing the fences,
 * turning `expression; // <JSON>` lines into checks, and matching expected-output
 * comments (`# {"accepted":2,...}`) against what a command printed.
 */

import { isDeepStrictEqual } from "node:util";

/** A fenced ```ts or ```sh block. */
export interface ReadmeBlock {
  readonly lang: "ts" | "sh";
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** Why the block is not run (from a `<!-- readme-test: not run, why -->` line before it). */
  readonly notRun?: string;
}

/** Every ```ts and ```sh block of `markdown`. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    const lang = open[1];
    if (lang === "ts" || lang === "sh") {
      const before = /^<!-- readme-test: not run, (.+) -->$/.exec(lines[i - 1] ?? "");
      const code = lines.slice(i + 1, end).join("\n");
      blocks.push({ lang, line: i + 1, code, ...(before ? { notRun: before[1] as string } : {}) });
    }
    i = end;
  }
  return blocks;
}

/** A shell block's commands, continuation lines joined, each with the comment lines after it. */
export interface ShellCommand {
  readonly text: string;
  readonly background: boolean;
  /** Expected output from a `# {…}` / `# […]` comment after the command. */
  readonly expected?: string;
  /** A record the background process must print, from `stdout: {…}` in that comment. */
  readonly stdout?: string;
}

/** Splits a shell block into commands. */
export function shellCommands(code: string): ShellCommand[] {
  const out: { text: string; background: boolean; expected?: string; stdout?: string }[] = [];
  let pending = "";
  for (const raw of code.split("\n")) {
    if (pending === "" && /^\s*#/.test(raw)) {
      const last = out[out.length - 1];
      const json = leadingJson(raw.replace(/^\s*#\s*/, ""));
      if (last && json !== undefined) {
        last.expected = json;
        const so = /stdout: (.*)$/.exec(raw);
        if (so) last.stdout = leadingJson(so[1] as string);
      }
      continue;
    }
    if (raw.trim() === "" && pending === "") continue;
    const line = raw.replace(/\s+#[^'"]*$/, ""); // a trailing comment (outside quotes)
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const text = (pending + line).trim();
    pending = "";
    const background = /\s&$/.test(text);
    out.push({ text: background ? text.replace(/\s&$/, "") : text, background });
  }
  return out;
}

/** The JSON object or array at the start of `s` (with `...` wildcards), if there is one. */
function leadingJson(s: string): string | undefined {
  const open = s[0];
  if (open !== "{" && open !== "[") return undefined;
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return s.slice(0, i + 1);
    }
  }
  return undefined;
}

const ANY = "__readme_any__";

/**
 * Whether `actual` (a command's output) matches the README's `expected` JSON: objects
 * match on the keys the README shows (`,...` marks the rest as left out), `[...]` or
 * `...` as a value matches anything.
 */
export function matchesExpected(actual: string, expected: string): boolean {
  const pattern = JSON.parse(
    expected
      .replace(/\[\.\.\.\]/g, `"${ANY}"`)
      .replace(/:\.\.\./g, `:"${ANY}"`)
      .replace(/,\.\.\./g, ""),
  ) as unknown;
  let value: unknown;
  try {
    value = JSON.parse(actual);
  } catch {
    return false;
  }
  return subset(value, pattern);
}

function subset(value: unknown, pattern: unknown): boolean {
  if (pattern === ANY) return true;
  if (Array.isArray(pattern)) {
    return Array.isArray(value) && value.length === pattern.length && pattern.every((p, i) => subset(value[i], p));
  }
  if (typeof pattern === "object" && pattern !== null) {
    if (typeof value !== "object" || value === null) return false;
    return Object.entries(pattern).every(([k, p]) => subset((value as Record<string, unknown>)[k], p));
  }
  return isDeepStrictEqual(value, pattern);
}

/**
 * A TypeScript block as a module that checks itself: relative imports resolve from
 * `root`, `8080` becomes `port`, and each `expression; // <JSON>` line asserts that
 * the expression equals the JSON.
 */
export function checkedModule(code: string, root: string, port: number, checker: string): string {
  const body = code
    .replace(/from "\.\//g, `from "${root}/`)
    .replace(/\b8080\b/g, String(port))
    .split("\n")
    .map((line, i) => {
      const m = /^(\s*)(?!const |let |import |export )(.+);\s*\/\/\s*(.+)$/.exec(line);
      if (!m) return line;
      try {
        JSON.parse(m[3] as string);
      } catch {
        return line;
      }
      return `${m[1]}__readmeCheck(${m[2]}, ${m[3]}, ${i + 1});`;
    })
    .join("\n");
  return `${body}\nimport { readmeCheck as __readmeCheck } from "${checker}";\n`;
}

/** Throws unless `actual` deep-equals `expected` (the README's comment on line `line` of its block). */
export function readmeCheck(actual: unknown, expected: unknown, line: number): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `README example, line ${line} of its block: got ${JSON.stringify(actual)}, the README says ${JSON.stringify(expected)}`,
    );
  }
}
