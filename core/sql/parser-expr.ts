/** The expression grammar: operators by precedence, predicates, CASE, CAST, calls with FILTER and OVER. */
import type { Expr } from "./ast.ts";
import * as T from "./lexer.ts";
import { after, BaseParser, img, posOf, stringValue } from "./parser-base.ts";

const K = T.Keyword;

/** Expressions. */
export class ExprParser extends BaseParser {
  override expr = this.RULE("expr", (): Expr => {
    let left = this.SUBRULE(this.andExpr);
    this.MANY(() => {
      const op = this.CONSUME(K.OR);
      const right = this.SUBRULE2(this.andExpr);
      left = { kind: "binary", op: "OR", left, right, pos: posOf(op) };
    });
    return left;
  });

  andExpr = this.RULE("andExpr", (): Expr => {
    let left = this.SUBRULE(this.notExpr);
    this.MANY(() => {
      const op = this.CONSUME(K.AND);
      const right = this.SUBRULE2(this.notExpr);
      left = { kind: "binary", op: "AND", left, right, pos: posOf(op) };
    });
    return left;
  });

  notExpr = this.RULE("notExpr", (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const op = this.CONSUME(K.NOT);
          const operand = this.SUBRULE(this.notExpr);
          return { kind: "unary", op: "NOT", operand, pos: posOf(op) } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  predicate = this.RULE("predicate", (): Expr => {
    const left = this.SUBRULE(this.additive);
    let result = left;
    this.OPTION(() => {
      result = this.OR([
        { ALT: () => this.SUBRULE(this.comparisonTail, { ARGS: [left] }) },
        { ALT: () => this.SUBRULE(this.isTail, { ARGS: [left] }) },
        { ALT: () => this.SUBRULE(this.rangeTail, { ARGS: [left] }) },
      ]);
    });
    return result;
  });

  comparisonTail = this.RULE("comparisonTail", (left: Expr): Expr => {
    const op = this.OR([
      { ALT: () => this.CONSUME(T.Equals) },
      { ALT: () => this.CONSUME(T.NotEquals) },
      { ALT: () => this.CONSUME(T.LessEquals) },
      { ALT: () => this.CONSUME(T.GreaterEquals) },
      { ALT: () => this.CONSUME(T.Less) },
      { ALT: () => this.CONSUME(T.Greater) },
    ]);
    const right = this.SUBRULE(this.additive);
    return { kind: "binary", op: op.image === "!=" ? "<>" : op.image, left, right, pos: posOf(op) };
  });

  isTail = this.RULE("isTail", (left: Expr): Expr => {
    const is = this.CONSUME(K.IS);
    const not = this.OPTION(() => this.CONSUME(K.NOT)) !== undefined;
    const what = this.OR([
      { ALT: () => after([this.CONSUME(K.NULL)], "NULL" as const) },
      { ALT: () => after([this.CONSUME(K.TRUE)], "TRUE" as const) },
      { ALT: () => after([this.CONSUME(K.FALSE)], "FALSE" as const) },
    ]);
    return { kind: "is", expr: left, what, not, pos: posOf(is) };
  });

  /** `[NOT] BETWEEN … AND …`, `[NOT] IN (…)`, `[NOT] LIKE …`. */
  rangeTail = this.RULE("rangeTail", (left: Expr): Expr => {
    const not = this.OPTION(() => this.CONSUME(K.NOT)) !== undefined;
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(K.BETWEEN);
          const low = this.SUBRULE(this.additive);
          this.CONSUME(K.AND);
          const high = this.SUBRULE2(this.additive);
          return { kind: "between", expr: left, low, high, not, pos: posOf(t) } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(K.LIKE);
          const pattern = this.SUBRULE3(this.additive);
          return { kind: "like", expr: left, pattern, not, pos: posOf(t) } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(K.IN);
          this.CONSUME(T.LParen);
          const r = this.OR2({
            IGNORE_AMBIGUITIES: true,
            DEF: [
              {
                GATE: () => this.startsQuery(1),
                ALT: () =>
                  ({ kind: "in-query", expr: left, query: this.SUBRULE(this.query), not, pos: posOf(t) }) as Expr,
              },
              {
                ALT: () => {
                  const list: Expr[] = [];
                  this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => list.push(this.SUBRULE(this.expr)) });
                  return { kind: "in", expr: left, list, not, pos: posOf(t) } as Expr;
                },
              },
            ],
          });
          this.CONSUME(T.RParen);
          return r;
        },
      },
    ]);
  });

  override additive = this.RULE("additive", (): Expr => {
    let left = this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Plus) },
        { ALT: () => this.CONSUME(T.Minus) },
        { ALT: () => this.CONSUME(T.Concat) },
      ]);
      const right = this.SUBRULE2(this.multiplicative);
      left = { kind: "binary", op: op.image, left, right, pos: posOf(op) };
    });
    return left;
  });

  multiplicative = this.RULE("multiplicative", (): Expr => {
    let left = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      const right = this.SUBRULE2(this.unary);
      left = { kind: "binary", op: op.image, left, right, pos: posOf(op) };
    });
    return left;
  });

  unary = this.RULE("unary", (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const op = this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          const operand = this.SUBRULE(this.unary);
          return { kind: "unary", op: op.image as "-" | "+", operand, pos: posOf(op) } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE("primary", (): Expr => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.literal) },
      { ALT: () => this.SUBRULE(this.interval) },
      { ALT: () => this.SUBRULE(this.cast) },
      { ALT: () => this.SUBRULE(this.caseExpr) },
      {
        ALT: () => {
          const t = this.CONSUME(K.EXISTS);
          this.CONSUME(T.LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME(T.RParen);
          return { kind: "subquery", query, exists: true, pos: posOf(t) } as Expr;
        },
      },
      {
        GATE: () => this.startsQuery(2),
        ALT: () => {
          const t = this.CONSUME2(T.LParen);
          const query = this.SUBRULE2(this.query);
          this.CONSUME2(T.RParen);
          return { kind: "subquery", query, exists: false, pos: posOf(t) } as Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME3(T.LParen);
          const e = this.SUBRULE(this.expr);
          this.CONSUME3(T.RParen);
          return e;
        },
      },
      {
        GATE: () => this.LA(2).tokenType === T.StringLiteral,
        ALT: () => {
          const type = this.CONSUME(T.Identifier);
          const value = this.CONSUME(T.StringLiteral);
          return {
            kind: "typed-literal",
            type: img(type).toUpperCase(),
            value: stringValue(value),
            pos: posOf(type),
          } as Expr;
        },
      },
      { GATE: () => this.LA(2).tokenType === T.LParen, ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.columnRef) },
    ]);
  });

  cast = this.RULE("cast", (): Expr => {
    const t = this.CONSUME(K.CAST);
    this.CONSUME(T.LParen);
    const expr = this.SUBRULE(this.expr);
    this.CONSUME(K.AS);
    const type = this.SUBRULE(this.typeName);
    this.CONSUME(T.RParen);
    return { kind: "cast", expr, type, pos: posOf(t) };
  });

  caseExpr = this.RULE("caseExpr", (): Expr => {
    const t = this.CONSUME(K.CASE);
    const operand = this.OPTION(() => this.SUBRULE(this.expr));
    const whens: { when: Expr; result: Expr }[] = [];
    this.AT_LEAST_ONE(() => {
      this.CONSUME(K.WHEN);
      const when = this.SUBRULE2(this.expr);
      this.CONSUME(K.THEN);
      const then = this.SUBRULE3(this.expr);
      whens.push({ when, result: then });
    });
    const otherwise = this.OPTION2(() => {
      this.CONSUME(K.ELSE);
      return this.SUBRULE4(this.expr);
    });
    this.CONSUME(K.END);
    return {
      kind: "case",
      whens,
      pos: posOf(t),
      ...(operand === undefined ? {} : { operand }),
      ...(otherwise === undefined ? {} : { else: otherwise }),
    };
  });

  /** `f(args)`, `COUNT(*)`, `COUNT(DISTINCT x)`, with `FILTER (WHERE …)` and `OVER (…)`. */
  call = this.RULE("call", (): Expr => {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    let distinct = false;
    let star = false;
    const args: Expr[] = [];
    this.OPTION(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Star);
            star = true;
          },
        },
        {
          ALT: () => {
            this.OPTION2(() => {
              this.CONSUME(K.DISTINCT);
              distinct = true;
            });
            this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => args.push(this.SUBRULE(this.expr)) });
          },
        },
      ]);
    });
    this.CONSUME(T.RParen);
    const filter = this.OPTION3(() => {
      this.CONSUME(K.FILTER);
      this.CONSUME2(T.LParen);
      this.CONSUME(K.WHERE);
      const f = this.SUBRULE2(this.expr);
      this.CONSUME2(T.RParen);
      return f;
    });
    const over = this.OPTION4(() => {
      this.CONSUME(K.OVER);
      return this.SUBRULE(this.windowSpec);
    });
    return {
      kind: "call",
      name: img(name).toUpperCase(),
      args,
      distinct,
      star,
      pos: posOf(name),
      ...(filter === undefined ? {} : { filter }),
      ...(over === undefined ? {} : { over }),
    };
  });

  columnRef = this.RULE("columnRef", (): Expr => {
    const first = this.SUBRULE(this.identifier);
    const path = [first.name];
    this.MANY(() => {
      this.CONSUME(T.Dot);
      path.push(this.SUBRULE2(this.identifier).name);
    });
    return { kind: "column", path, pos: first.pos };
  });
}
