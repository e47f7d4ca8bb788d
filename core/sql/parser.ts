/**
 * riffle's Flink SQL grammar: statements on top of the query grammar
 * (parser-query.ts). {@link parseSql} turns a script into statements, or throws a
 * {@link SqlError} with the line, column and what was expected.
 */
import type { ColumnDef, Expr, Statement, TypeName } from "./ast.ts";
import { type Pos, SqlError } from "./errors.ts";
import * as T from "./lexer.ts";
import { found } from "./parse-errors.ts";
import { after, img, posOf, stringValue } from "./parser-base.ts";
import { QueryParser } from "./parser-query.ts";

const K = T.Keyword;

class SqlParser extends QueryParser {
  script = this.RULE("script", (): Statement[] => {
    const out: Statement[] = [];
    this.OPTION(() => out.push(this.SUBRULE(this.statement)));
    this.MANY(() => {
      this.CONSUME(T.Semicolon);
      this.OPTION2(() => out.push(this.SUBRULE2(this.statement)));
    });
    return out;
  });

  statement = this.RULE("statement", (): Statement => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.create) },
      { ALT: () => this.SUBRULE(this.insert) },
      { ALT: () => this.SUBRULE(this.statementSet) },
      {
        ALT: () => {
          const t = this.CONSUME(K.EXPLAIN);
          return { kind: "explain", statement: this.SUBRULE(this.statement), pos: posOf(t) } as Statement;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(K.SET);
          const key = stringValue(this.CONSUME(T.StringLiteral));
          this.CONSUME(T.Equals);
          const value = stringValue(this.CONSUME2(T.StringLiteral));
          return { kind: "set", key, value, pos: posOf(t) } as Statement;
        },
      },
      {
        ALT: () =>
          ({ kind: "show-tables", pos: posOf(after([this.CONSUME(K.SHOW)], this.CONSUME(K.TABLES))) }) as Statement,
      },
      {
        ALT: () => {
          const t = this.CONSUME(K.DESCRIBE);
          return { kind: "describe", name: this.SUBRULE(this.identifier).name, pos: posOf(t) } as Statement;
        },
      },
      {
        ALT: () => {
          const query = this.SUBRULE(this.query);
          return { kind: "query", query, pos: query.pos } as Statement;
        },
      },
    ]);
  });

  create = this.RULE("create", (): Statement => {
    const t = this.CONSUME(K.CREATE);
    this.OPTION(() => this.CONSUME(K.TEMPORARY));
    return this.OR([
      { ALT: () => this.SUBRULE(this.createTable, { ARGS: [posOf(t)] }) },
      {
        GATE: () => this.LA(1).image.toUpperCase() === "MATERIALIZED",
        ALT: () => this.SUBRULE(this.createMaterialized, { ARGS: [posOf(t)] }),
      },
      {
        ALT: () => {
          this.CONSUME(K.VIEW);
          const name = this.SUBRULE(this.identifier).name;
          this.CONSUME(K.AS);
          return { kind: "create-view", name, query: this.SUBRULE(this.query), pos: posOf(t) } as Statement;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.FUNCTION);
          const name = this.SUBRULE2(this.identifier).name;
          // A remote function's signature: `(TYPE, …) RETURNS TYPE`.
          const params = this.OPTION3(() => {
            const types: TypeName[] = [];
            this.CONSUME(T.LParen);
            this.MANY_SEP({ SEP: T.Comma, DEF: () => types.push(this.SUBRULE(this.typeName)) });
            this.CONSUME(T.RParen);
            return types;
          });
          const returns = this.OPTION4(() => {
            this.CONSUME3(T.Identifier, { LABEL: "RETURNS" });
            return this.SUBRULE2(this.typeName);
          });
          this.CONSUME2(K.AS);
          const className = stringValue(this.CONSUME(T.StringLiteral));
          const language = this.OPTION2(() => img(after([this.CONSUME(T.Identifier)], this.CONSUME2(T.Identifier))));
          return {
            kind: "create-function",
            name,
            className,
            pos: posOf(t),
            ...(params ? { params } : {}),
            ...(returns ? { returns } : {}),
            ...(typeof language === "string" && language !== "" ? { language: language.toUpperCase() } : {}),
          } as Statement;
        },
      },
    ]);
  });

  /** `MATERIALIZED TABLE t [(PRIMARY KEY (…) NOT ENFORCED)] [WITH (…)] AS query` (MATERIALIZED is not reserved). */
  createMaterialized = this.RULE("createMaterialized", (pos: Pos): Statement => {
    this.CONSUME(T.Identifier);
    this.CONSUME(K.TABLE);
    const name = this.SUBRULE(this.identifier).name;
    const primaryKey = this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.CONSUME(K.PRIMARY);
      this.CONSUME(K.KEY);
      const key = this.SUBRULE(this.identifierList);
      this.CONSUME(K.NOT);
      this.CONSUME(K.ENFORCED);
      this.CONSUME(T.RParen);
      return key;
    });
    const options = this.OPTION2(() => this.SUBRULE(this.withOptions)) ?? {};
    this.CONSUME(K.AS);
    const query = this.SUBRULE(this.query);
    return {
      kind: "create-materialized-table",
      name,
      options,
      query,
      pos,
      ...(primaryKey === undefined ? {} : { primaryKey }),
    };
  });

  createTable = this.RULE("createTable", (pos: Pos): Statement => {
    this.CONSUME(K.TABLE);
    this.OPTION(() => after([this.CONSUME(K.IF), this.CONSUME(K.NOT)], this.CONSUME(K.EXISTS)));
    const name = this.SUBRULE(this.identifier).name;
    const columns: ColumnDef[] = [];
    let watermark: { column: string; expr: Expr; pos: Pos } | undefined;
    let primaryKey: string[] | undefined;
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () =>
        this.OR([
          {
            ALT: () => {
              const w = this.CONSUME(K.WATERMARK);
              this.CONSUME(K.FOR);
              const column = this.SUBRULE2(this.identifier).name;
              this.CONSUME(K.AS);
              watermark = { column, expr: this.SUBRULE(this.expr), pos: posOf(w) };
            },
          },
          {
            ALT: () => {
              this.CONSUME(K.PRIMARY);
              this.CONSUME(K.KEY);
              primaryKey = this.SUBRULE(this.identifierList);
              this.CONSUME2(K.NOT);
              this.CONSUME(K.ENFORCED);
            },
          },
          { ALT: () => columns.push(this.SUBRULE(this.columnDef)) },
        ]),
    });
    this.CONSUME(T.RParen);
    const partitionedBy = this.OPTION3(() => {
      this.CONSUME(K.PARTITIONED);
      this.CONSUME(K.BY);
      return this.SUBRULE2(this.identifierList);
    });
    const options = this.OPTION2(() => this.SUBRULE(this.withOptions)) ?? {};
    return {
      kind: "create-table",
      name,
      columns,
      options,
      pos,
      ...(watermark === undefined ? {} : { watermark }),
      ...(primaryKey === undefined ? {} : { primaryKey }),
      ...(partitionedBy === undefined ? {} : { partitionedBy }),
    };
  });

  columnDef = this.RULE("columnDef", (): ColumnDef => {
    const id = this.SUBRULE(this.identifier);
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(K.AS);
          return { kind: "computed", name: id.name, expr: this.SUBRULE(this.expr), pos: id.pos } as ColumnDef;
        },
      },
      { ALT: () => ({ kind: "physical", name: id.name, type: this.SUBRULE(this.typeName), pos: id.pos }) as ColumnDef },
    ]);
  });

  identifierList = this.RULE("identifierList", (): string[] => {
    const names: string[] = [];
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => names.push(this.SUBRULE(this.identifier).name) });
    this.CONSUME(T.RParen);
    return names;
  });

  withOptions = this.RULE("withOptions", (): Record<string, string> => {
    const options: Record<string, string> = {};
    this.CONSUME(K.WITH);
    this.CONSUME(T.LParen);
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const key = stringValue(this.CONSUME(T.StringLiteral));
        this.CONSUME(T.Equals);
        options[key] = stringValue(this.CONSUME2(T.StringLiteral));
      },
    });
    this.CONSUME(T.RParen);
    return options;
  });

  insert = this.RULE("insert", (): Statement => {
    const t = this.CONSUME(K.INSERT);
    const how = this.OR([{ ALT: () => this.CONSUME(K.INTO) }, { ALT: () => this.CONSUME(K.OVERWRITE) }]);
    const table = this.SUBRULE(this.identifier).name;
    const columns = this.OPTION(() => this.SUBRULE(this.identifierList));
    const query = this.SUBRULE(this.query);
    const overwrite = how.tokenType === K.OVERWRITE ? { overwrite: true as const } : {};
    return { kind: "insert", table, query, pos: posOf(t), ...(columns === undefined ? {} : { columns }), ...overwrite };
  });

  /** `EXECUTE STATEMENT SET BEGIN insert; … END`. */
  statementSet = this.RULE("statementSet", (): Statement => {
    const t = this.CONSUME(K.EXECUTE);
    this.CONSUME(K.STATEMENT);
    this.CONSUME(K.SET);
    this.CONSUME(K.BEGIN);
    const inserts: Statement[] = [];
    this.AT_LEAST_ONE(() => {
      inserts.push(this.SUBRULE(this.insert));
      this.CONSUME(T.Semicolon);
    });
    this.CONSUME(K.END);
    return { kind: "statement-set", inserts, pos: posOf(t) };
  });

  constructor() {
    super();
    this.performSelfAnalysis();
  }
}

let parser: SqlParser | undefined;

/** Parses a script of `;`-separated statements. Throws a {@link SqlError} of kind `parse`. */
export function parseSql(text: string): Statement[] {
  const lexed = T.sqlLexer.tokenize(text);
  const bad = lexed.errors[0];
  if (bad) {
    const pos = { line: bad.line ?? 0, column: bad.column ?? 0 };
    const c = text.slice(bad.offset, bad.offset + 1);
    const what =
      c === "'" ? "unterminated string" : c === "`" ? "unterminated quoted identifier" : `unexpected character '${c}'`;
    throw new SqlError("parse", pos, what);
  }
  parser ??= new SqlParser();
  parser.input = lexed.tokens;
  const statements = parser.script();
  const error = parser.errors[0];
  if (error) {
    const t = error.token;
    const pos = t.startLine === undefined || !(t.startLine >= 1) ? endPos(text) : posOf(t);
    const i = lexed.tokens.indexOf(t);
    const startsStatement = i === 0 || (i > 0 && lexed.tokens[i - 1]?.tokenType === T.Semicolon);
    const message =
      error.name === "NotAllInputParsedException" && startsStatement
        ? `expected a statement (SELECT, INSERT INTO, CREATE TABLE/VIEW, EXPLAIN, EXECUTE STATEMENT SET, SET) but found ${found(t)}`
        : error.message || `unexpected ${found(t)}`;
    throw new SqlError("parse", pos, message);
  }
  return statements;
}

/** The position just past the end of `text` (where an unexpected end of input is). */
function endPos(text: string): Pos {
  const lines = text.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
