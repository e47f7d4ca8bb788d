/** The query grammar: SELECT blocks, UNION, FROM with joins, derived tables and window table functions. */
import type { Expr, Query, SelectItem, TableRef } from "./ast.ts";
import * as T from "./lexer.ts";
import { after, img, posOf } from "./parser-base.ts";
import { ExprParser } from "./parser-expr.ts";

const K = T.Keyword;

/** Queries. */
export class QueryParser extends ExprParser {
  override query = this.RULE("query", (): Query => {
    let left = this.SUBRULE(this.queryTerm);
    this.MANY(() => {
      const t = this.CONSUME(K.UNION);
      const all = this.OPTION(() => this.CONSUME(K.ALL)) !== undefined;
      const right = this.SUBRULE2(this.queryTerm);
      left = { kind: "union", all, left, right, pos: posOf(t) };
    });
    return left;
  });

  queryTerm = this.RULE("queryTerm", (): Query => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.select) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const q = this.SUBRULE(this.query);
          this.CONSUME(T.RParen);
          return q;
        },
      },
    ]);
  });

  select = this.RULE("select", (): Query => {
    const t = this.CONSUME(K.SELECT);
    const distinct =
      this.OPTION(() =>
        this.OR([{ ALT: () => this.CONSUME(K.DISTINCT) }, { ALT: () => after([this.CONSUME(K.ALL)], undefined) }]),
      ) !== undefined;
    const items: SelectItem[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => items.push(this.SUBRULE(this.selectItem)) });
    const from = this.OPTION2(() => after([this.CONSUME(K.FROM)], this.SUBRULE(this.fromClause)));
    const where = this.OPTION3(() => after([this.CONSUME(K.WHERE)], this.SUBRULE(this.expr)));
    const groupBy: Expr[] = [];
    this.OPTION4(() => {
      this.CONSUME(K.GROUP);
      this.CONSUME(K.BY);
      this.AT_LEAST_ONE_SEP2({ SEP: T.Comma, DEF: () => groupBy.push(this.SUBRULE2(this.expr)) });
    });
    const having = this.OPTION5(() => after([this.CONSUME(K.HAVING)], this.SUBRULE3(this.expr)));
    const orderBy = this.OPTION6(() => this.SUBRULE(this.orderBy)) ?? [];
    const limit = this.OPTION7(() => after([this.CONSUME(K.LIMIT)], Number(this.CONSUME(T.IntegerNumber).image)));
    return {
      kind: "select",
      distinct,
      items,
      groupBy,
      orderBy,
      pos: posOf(t),
      ...(from === undefined ? {} : { from }),
      ...(where === undefined ? {} : { where }),
      ...(having === undefined ? {} : { having }),
      ...(limit === undefined ? {} : { limit }),
    };
  });

  selectItem = this.RULE("selectItem", (): SelectItem => {
    return this.OR([
      { ALT: () => ({ expr: { kind: "star", pos: posOf(this.CONSUME(T.Star)) } }) as SelectItem },
      {
        GATE: () => this.LA(2).tokenType === T.Dot && this.LA(3).tokenType === T.Star,
        ALT: () => {
          const q = this.SUBRULE(this.identifier);
          this.CONSUME(T.Dot);
          this.CONSUME2(T.Star);
          return { expr: { kind: "star", qualifier: q.name, pos: q.pos } } as SelectItem;
        },
      },
      {
        ALT: () => {
          const expr = this.SUBRULE(this.expr);
          const alias = this.OPTION(() => this.SUBRULE(this.alias));
          return (alias === undefined ? { expr } : { expr, alias }) as SelectItem;
        },
      },
    ]);
  });

  alias = this.RULE("alias", (): string => {
    this.OPTION(() => this.CONSUME(K.AS));
    return this.SUBRULE(this.identifier).name;
  });

  fromClause = this.RULE("fromClause", (): TableRef => {
    let left = this.SUBRULE(this.joined);
    this.MANY(() => {
      const t = this.CONSUME(T.Comma);
      const right = this.SUBRULE2(this.joined);
      left = { kind: "join", type: "CROSS", left, right, pos: posOf(t) };
    });
    return left;
  });

  joined = this.RULE("joined", (): TableRef => {
    let left = this.SUBRULE(this.tablePrimary);
    this.MANY(() => {
      const type = this.SUBRULE(this.joinType);
      const t = this.CONSUME(K.JOIN);
      const right = this.SUBRULE2(this.tablePrimary);
      const on = this.OPTION(() => after([this.CONSUME(K.ON)], this.SUBRULE(this.expr)));
      left = { kind: "join", type, left, right, pos: posOf(t), ...(on === undefined ? {} : { on }) };
    });
    return left;
  });

  joinType = this.RULE("joinType", (): "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS" => {
    const type = this.OPTION(() =>
      this.OR([
        { ALT: () => after([this.CONSUME(K.INNER)], "INNER" as const) },
        { ALT: () => after([this.CONSUME(K.CROSS)], "CROSS" as const) },
        { ALT: () => after([this.CONSUME(K.LEFT), this.OPTION2(() => this.CONSUME(K.OUTER))], "LEFT" as const) },
        { ALT: () => after([this.CONSUME(K.RIGHT), this.OPTION3(() => this.CONSUME2(K.OUTER))], "RIGHT" as const) },
        { ALT: () => after([this.CONSUME(K.FULL), this.OPTION4(() => this.CONSUME3(K.OUTER))], "FULL" as const) },
      ]),
    );
    return type ?? "INNER";
  });

  tablePrimary = this.RULE("tablePrimary", (): TableRef => {
    const ref = this.OR([
      { ALT: () => this.SUBRULE(this.tableFunction) },
      {
        ALT: () => {
          const t = this.CONSUME(T.LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME(T.RParen);
          return { kind: "derived", query, pos: posOf(t) } as TableRef;
        },
      },
      {
        ALT: () => {
          const id = this.SUBRULE(this.identifier);
          const asOf = this.OPTION(() => {
            this.CONSUME(K.FOR);
            this.CONSUME(K.SYSTEM_TIME);
            this.CONSUME(K.AS);
            this.CONSUME(K.OF);
            return this.SUBRULE(this.expr);
          });
          return { kind: "table", name: id.name, pos: id.pos, ...(asOf === undefined ? {} : { asOf }) } as TableRef;
        },
      },
    ]);
    const alias = this.OPTION2(() => this.SUBRULE(this.alias));
    return alias === undefined || ref.kind === "join" ? ref : { ...ref, alias };
  });

  /** `TABLE(TUMBLE(TABLE t, DESCRIPTOR(c), INTERVAL …))`. */
  tableFunction = this.RULE("tableFunction", (): TableRef => {
    this.CONSUME(K.TABLE);
    this.CONSUME(T.LParen);
    const fn = this.CONSUME(T.Identifier);
    this.CONSUME2(T.LParen);
    this.CONSUME2(K.TABLE);
    const table = this.SUBRULE(this.identifier).name;
    this.CONSUME(T.Comma);
    this.CONSUME(K.DESCRIPTOR);
    this.CONSUME3(T.LParen);
    const descriptor = this.SUBRULE2(this.identifier).name;
    this.CONSUME3(T.RParen);
    const args: Expr[] = [];
    this.MANY(() => {
      this.CONSUME2(T.Comma);
      args.push(this.SUBRULE(this.expr));
    });
    this.CONSUME4(T.RParen);
    this.CONSUME5(T.RParen);
    return { kind: "tvf", fn: img(fn).toUpperCase(), table, descriptor, args, pos: posOf(fn) };
  });
}
