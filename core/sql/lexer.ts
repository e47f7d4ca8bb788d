/**
 * The tokens of riffle's Flink SQL dialect (Calcite's lexical rules): case-insensitive keywords,
 * backquoted identifiers, '…' strings with '' escapes, integer/decimal/approximate numbers,
 * `--` and `/* … *\/` comments. Built with chevrotain's lexer.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

/** A plain or backquoted identifier (keywords below take precedence over plain ones). */
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_$]*/ });
export const QuotedIdentifier = createToken({ name: "QuotedIdentifier", pattern: /`(?:[^`]|``)+`/ });

const keywordNames = [
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP",
  "BY",
  "HAVING",
  "ORDER",
  "LIMIT",
  "AS",
  "AND",
  "OR",
  "NOT",
  "NULL",
  "TRUE",
  "FALSE",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "CAST",
  "INTERVAL",
  "CREATE",
  "TABLE",
  "VIEW",
  "INSERT",
  "INTO",
  "WITH",
  "WATERMARK",
  "FOR",
  "JOIN",
  "INNER",
  "LEFT",
  "RIGHT",
  "FULL",
  "OUTER",
  "CROSS",
  "ON",
  "DISTINCT",
  "FILTER",
  "OVER",
  "PARTITION",
  "ROWS",
  "RANGE",
  "BETWEEN",
  "PRECEDING",
  "FOLLOWING",
  "CURRENT",
  "ROW",
  "UNBOUNDED",
  "IS",
  "IN",
  "LIKE",
  "EXPLAIN",
  "UNION",
  "ALL",
  "SYSTEM_TIME",
  "OF",
  "DESCRIPTOR",
  "ASC",
  "DESC",
  "EXISTS",
  "FUNCTION",
  "PRIMARY",
  "KEY",
  "ENFORCED",
  "SET",
  "EXECUTE",
  "STATEMENT",
  "BEGIN",
  "TEMPORARY",
  "IF",
  "OVERWRITE",
  "SHOW",
  "TABLES",
  "DESCRIBE",
  "VALUES",
  "PARTITIONED",
] as const;

/** One token per keyword, e.g. `Keyword.SELECT`. */
export const Keyword = Object.fromEntries(
  keywordNames.map((k) => [
    k,
    createToken({ name: k, pattern: new RegExp(`${k}(?![A-Za-z0-9_$])`, "i"), longer_alt: Identifier }),
  ]),
) as Record<(typeof keywordNames)[number], TokenType>;

export const StringLiteral = createToken({ name: "StringLiteral", pattern: /'(?:[^']|'')*'/ });
export const ApproxNumber = createToken({ name: "ApproxNumber", pattern: /(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+/ });
export const DecimalNumber = createToken({ name: "DecimalNumber", pattern: /\d+\.\d*|\.\d+/ });
export const IntegerNumber = createToken({ name: "IntegerNumber", pattern: /\d+/ });

export const NotEquals = createToken({ name: "NotEquals", pattern: /<>|!=/ });
export const LessEquals = createToken({ name: "LessEquals", pattern: /<=/ });
export const GreaterEquals = createToken({ name: "GreaterEquals", pattern: />=/ });
export const Less = createToken({ name: "Less", pattern: /</ });
export const Greater = createToken({ name: "Greater", pattern: />/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });
export const Concat = createToken({ name: "Concat", pattern: /\|\|/ });
export const Plus = createToken({ name: "Plus", pattern: /\+/ });
export const Minus = createToken({ name: "Minus", pattern: /-/ });
export const Star = createToken({ name: "Star", pattern: /\*/ });
export const Slash = createToken({ name: "Slash", pattern: /\// });
export const Percent = createToken({ name: "Percent", pattern: /%/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });
export const Dot = createToken({ name: "Dot", pattern: /\./ });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/ });

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /\s+/, group: Lexer.SKIPPED });
const LineComment = createToken({ name: "LineComment", pattern: /--[^\n\r]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED });

/** Every token, in lexing priority order. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  ...Object.values(Keyword),
  Identifier,
  QuotedIdentifier,
  StringLiteral,
  ApproxNumber,
  DecimalNumber,
  IntegerNumber,
  NotEquals,
  LessEquals,
  GreaterEquals,
  Less,
  Greater,
  Equals,
  Concat,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  LParen,
  RParen,
  Comma,
  Dot,
  Semicolon,
];

/** The lexer (positions tracked for line/column errors). */
export const sqlLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
