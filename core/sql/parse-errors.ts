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

function oneOf(paths: TokenType[][][] | TokenType[][]): string {
  const flat = (paths as unknown[]).flat(1) as TokenType[][];
  const firsts = [...new Set(flat.map((p) => (p[0] ? label(p[0]) : "end of input")))];
  return firsts.length === 1 ? (firsts[0] as string) : `one of ${firsts.join(", ")}`;
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
