/** Parse error messages: what was found and what the grammar expected there. */
import type { IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";
import { EOF } from "chevrotain";
import * as T from "./lexer.ts";

const LABELS = new Map<TokenType, string>([
  [T.Identifier, "an identifier"],
  [T.QuotedIdentifier, "an identifier"],
  [T.StringLiteral, "a string"],
  [T.IntegerNumber, "an integer"],
  [T.DecimalNumber, "a number"],
  [T.ApproxNumber, "a number"],
  [T.LParen, "'('"],
  [T.RParen, "')'"],
  [T.Comma, "','"],
  [T.Semicolon, "';'"],
  [T.Dot, "'.'"],
  [T.Equals, "'='"],
  [T.Less, "'<'"],
  [T.Greater, "'>'"],
  [T.Star, "'*'"],
  [T.Minus, "'-'"],
  [T.Plus, "'+'"],
  [T.Keyword.KEY, "an identifier"],
  [T.Keyword.TABLES, "an identifier"],
  [T.Keyword.STATEMENT, "an identifier"],
  [T.Keyword.ENFORCED, "an identifier"],
  [EOF, "end of input"],
]);

/** How a token type reads in a message: `SELECT`, `an identifier`, `')'`. */
export function label(t: TokenType): string {
  return LABELS.get(t) ?? t.name;
}

/** What was found: `'foo'`, or `end of input`. */
export function found(t: IToken): string {
  return t.tokenType === EOF ? "end of input" : `'${t.image}'`;
}

const EXPRESSION_STARTS = [
  "an identifier",
  "an integer",
  "a number",
  "a string",
  "'('",
  "'-'",
  "'+'",
  "NOT",
  "TRUE",
  "FALSE",
  "NULL",
  "INTERVAL",
  "CAST",
  "CASE",
  "EXISTS",
];

function oneOf(paths: TokenType[][][] | TokenType[][]): string {
  // Per-alternative lists of paths (no viable alternative) or one list of paths (early exit).
  const nested = Array.isArray((paths as unknown[][])[0]?.[0]);
  const flat = (nested ? (paths as TokenType[][][]).flat(1) : paths) as TokenType[][];
  let firsts = [...new Set(flat.flatMap((p) => (p[0] ? [label(p[0])] : [])))];
  // Where any expression may start, say so rather than list every way one can.
  if (firsts.includes("an identifier") && firsts.includes("an integer")) {
    const starts = new Set(EXPRESSION_STARTS);
    firsts = ["an expression", ...firsts.filter((f) => !starts.has(f))];
  }
  if (firsts.length === 0) return "end of input";
  return firsts.length === 1 ? (firsts[0] as string) : `${firsts.slice(0, -1).join(", ")} or ${firsts.at(-1)}`;
}

/** The parser's error messages. */
export const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${label(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${found(firstRedundant)}: expected ';' or end of input`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) =>
    `expected ${oneOf(expectedPathsPerAlt)} but found ${actual[0] ? found(actual[0]) : "end of input"}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    `expected ${oneOf(expectedIterationPaths)} but found ${actual[0] ? found(actual[0]) : "end of input"}`,
};
