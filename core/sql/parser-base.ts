/**
 * The base of riffle's SQL grammar (a chevrotain parser with embedded actions that builds the
 * AST of ast.ts): token helpers, identifiers, literals, intervals, types, window specs and
 * ORDER BY. ExprParser (parser-expr.ts), QueryParser (parser-query.ts) and SqlParser
 * (parser.ts) extend it, in that order; together they are one grammar.
 */
import { EmbeddedActionsParser, type IToken, type ParserMethod } from "chevrotain";
import type { Expr, FrameBound, OrderItem, Query, TypeName, WindowSpec } from "./ast.ts";
import type { Pos } from "./errors.ts";
import * as T from "./lexer.ts";
import { errorMessages } from "./parse-errors.ts";

const K = T.Keyword;

/** A token's text ("" while chevrotain records the grammar). */
export const img = (t: IToken): string => t.image ?? "";

/** The 1-based position of a token. */
export const posOf = (t: IToken): Pos => ({ line: t.startLine ?? 0, column: t.startColumn ?? 0 });

/** `value`, once `_consumed` (tokens the grammar consumed for their side effect) is done. */
export const after = <R>(_consumed: readonly unknown[], value: R): R => value;

/** An identifier's name: backquotes removed (and `` unescaped); plain identifiers keep their case. */
export function identName(t: IToken): string {
  return t.tokenType === T.QuotedIdentifier ? img(t).slice(1, -1).replaceAll("``", "`") : img(t);
}

/** A string literal's value. */
export const stringValue = (t: IToken): string => img(t).slice(1, -1).replaceAll("''", "'");

/** Identifiers, literals, types, window specs. */
export class BaseParser extends EmbeddedActionsParser {
  /** An expression; defined by the expression grammar (parser-expr.ts). */
  declare expr: ParserMethod<[], Expr>;
  /** An additive expression (no comparison or logic); defined by the expression grammar. */
  declare additive: ParserMethod<[], Expr>;
  /** A full query; defined by the query grammar (parser-query.ts). */
  declare query: ParserMethod<[], Query>;

  constructor() {
    super(T.allTokens, { maxLookahead: 4, errorMessageProvider: errorMessages });
  }

  /** True when the tokens from `k` on are `(`… then `SELECT`: a query, not an expression. */
  protected startsQuery(k: number): boolean {
    let i = k;
    while (this.LA(i).tokenType === T.LParen) i++;
    return this.LA(i).tokenType === K.SELECT;
  }

  identifier = this.RULE("identifier", (): { name: string; pos: Pos } => {
    const t = this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.QuotedIdentifier) },
      // Non-reserved keywords, usable as names (Nexmark q13 has a column `key`).
      { ALT: () => this.CONSUME(K.KEY) },
      { ALT: () => this.CONSUME(K.TABLES) },
      { ALT: () => this.CONSUME(K.STATEMENT) },
      { ALT: () => this.CONSUME(K.ENFORCED) },
    ]);
    return { name: identName(t), pos: posOf(t) };
  });

  literal = this.RULE("literal", (): Expr => {
    const lit = (type: "integer" | "decimal" | "double" | "string" | "boolean" | "null", t: IToken): Expr => ({
      kind: "literal",
      type,
      text: type === "string" ? stringValue(t) : img(t).toUpperCase(),
      pos: posOf(t),
    });
    return this.OR([
      { ALT: () => lit("integer", this.CONSUME(T.IntegerNumber)) },
      { ALT: () => lit("decimal", this.CONSUME(T.DecimalNumber)) },
      { ALT: () => lit("double", this.CONSUME(T.ApproxNumber)) },
      { ALT: () => lit("string", this.CONSUME(T.StringLiteral)) },
      { ALT: () => lit("boolean", this.CONSUME(K.TRUE)) },
      { ALT: () => lit("boolean", this.CONSUME(K.FALSE)) },
      { ALT: () => lit("null", this.CONSUME(K.NULL)) },
    ]);
  });

  /** `INTERVAL '10' SECOND` (the unit is checked by the binder). */
  interval = this.RULE("interval", (): Expr => {
    const t = this.CONSUME(K.INTERVAL);
    const sign = this.OPTION(() => this.CONSUME(T.Minus)) ? "-" : "";
    const value = this.CONSUME(T.StringLiteral);
    const unit = this.CONSUME(T.Identifier);
    return { kind: "interval", value: sign + stringValue(value), unit: img(unit).toUpperCase(), pos: posOf(t) };
  });

  windowSpec = this.RULE("windowSpec", (): WindowSpec => {
    this.CONSUME(T.LParen);
    const partitionBy: Expr[] = [];
    this.OPTION(() => {
      this.CONSUME(K.PARTITION);
      this.CONSUME(K.BY);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => partitionBy.push(this.SUBRULE(this.expr)) });
    });
    const orderBy = this.OPTION2(() => this.SUBRULE(this.orderBy)) ?? [];
    const frame = this.OPTION3(() => {
      const unit = this.OR([
        { ALT: () => after([this.CONSUME(K.ROWS)], "ROWS" as const) },
        { ALT: () => after([this.CONSUME(K.RANGE)], "RANGE" as const) },
      ]);
      this.CONSUME(K.BETWEEN);
      const start = this.SUBRULE(this.frameBound);
      this.CONSUME(K.AND);
      const end = this.SUBRULE2(this.frameBound);
      return { unit, start, end };
    });
    this.CONSUME(T.RParen);
    return { partitionBy, orderBy, ...(frame === undefined ? {} : { frame }) };
  });

  frameBound = this.RULE("frameBound", (): FrameBound => {
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(K.UNBOUNDED);
          return this.OR2([
            { ALT: () => after([this.CONSUME(K.PRECEDING)], { kind: "unbounded-preceding" as const }) },
            { ALT: () => after([this.CONSUME(K.FOLLOWING)], { kind: "unbounded-following" as const }) },
          ]);
        },
      },
      { ALT: () => after([this.CONSUME(K.CURRENT), this.CONSUME(K.ROW)], { kind: "current-row" as const }) },
      {
        ALT: () => {
          const offset = this.SUBRULE(this.additive);
          return this.OR3([
            { ALT: () => after([this.CONSUME2(K.PRECEDING)], { kind: "preceding" as const, offset }) },
            { ALT: () => after([this.CONSUME2(K.FOLLOWING)], { kind: "following" as const, offset }) },
          ]);
        },
      },
    ]);
  });

  orderBy = this.RULE("orderBy", (): OrderItem[] => {
    this.CONSUME(K.ORDER);
    this.CONSUME(K.BY);
    const items: OrderItem[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const expr = this.SUBRULE(this.expr);
        const desc = this.OPTION(() =>
          this.OR([
            { ALT: () => after([this.CONSUME(K.ASC)], false) },
            { ALT: () => after([this.CONSUME(K.DESC)], true) },
          ]),
        );
        items.push({ expr, desc: desc === true });
      },
    });
    return items;
  });

  /** `BIGINT`, `DECIMAL(23, 3)`, `TIMESTAMP(3)`, `ROW<name TYPE, …>`, with an optional `NOT NULL`. */
  typeName = this.RULE("typeName", (): TypeName => {
    const t = this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(K.ROW) }]);
    const params: number[] = [];
    let fields: { name: string; type: TypeName }[] | undefined;
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => params.push(Number(this.CONSUME(T.IntegerNumber).image)) });
      this.CONSUME(T.RParen);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Less);
      fields = [];
      this.AT_LEAST_ONE_SEP2({
        SEP: T.Comma,
        DEF: () => {
          const name = this.SUBRULE(this.identifier).name;
          fields?.push({ name, type: this.SUBRULE(this.typeName) });
        },
      });
      this.CONSUME(T.Greater);
    });
    this.OPTION3(() => after([this.CONSUME(K.NOT)], this.CONSUME(K.NULL)));
    return { name: img(t).toUpperCase(), params, pos: posOf(t), ...(fields === undefined ? {} : { fields }) };
  });
}
