/** The syntax tree of riffle's Flink SQL dialect, as the parser builds it. */
import type { Pos } from "./errors.ts";

/** A type as written: `BIGINT`, `DECIMAL(23, 3)`, `TIMESTAMP(3)`, `ROW<a BIGINT, …>`. */
export interface TypeName {
  readonly name: string;
  readonly params: readonly number[];
  readonly fields?: readonly { readonly name: string; readonly type: TypeName }[];
  readonly pos: Pos;
}

/** `OVER (PARTITION BY … ORDER BY … ROWS|RANGE BETWEEN …)`. */
export interface WindowSpec {
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly frame?: { readonly unit: "ROWS" | "RANGE"; readonly start: FrameBound; readonly end: FrameBound };
}

/** One end of a window frame. */
export type FrameBound =
  | { readonly kind: "unbounded-preceding" | "current-row" | "unbounded-following" }
  | { readonly kind: "preceding" | "following"; readonly offset: Expr };

/** An `ORDER BY` item. */
export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
}

/** An expression. */
export type Expr =
  | {
      readonly kind: "literal";
      readonly type: "integer" | "decimal" | "double" | "string" | "boolean" | "null";
      readonly text: string;
      readonly pos: Pos;
    }
  | { readonly kind: "interval"; readonly value: string; readonly unit: string; readonly pos: Pos }
  | { readonly kind: "typed-literal"; readonly type: string; readonly value: string; readonly pos: Pos }
  | { readonly kind: "column"; readonly path: readonly string[]; readonly pos: Pos }
  | { readonly kind: "star"; readonly qualifier?: string; readonly pos: Pos }
  | { readonly kind: "binary"; readonly op: string; readonly left: Expr; readonly right: Expr; readonly pos: Pos }
  | { readonly kind: "unary"; readonly op: "-" | "+" | "NOT"; readonly operand: Expr; readonly pos: Pos }
  | {
      readonly kind: "call";
      readonly name: string;
      readonly args: readonly Expr[];
      readonly distinct: boolean;
      readonly star: boolean;
      readonly filter?: Expr;
      readonly over?: WindowSpec;
      readonly pos: Pos;
    }
  | {
      readonly kind: "case";
      readonly operand?: Expr;
      readonly whens: readonly { readonly when: Expr; readonly result: Expr }[];
      readonly else?: Expr;
      readonly pos: Pos;
    }
  | { readonly kind: "cast"; readonly expr: Expr; readonly type: TypeName; readonly pos: Pos }
  | {
      readonly kind: "between";
      readonly expr: Expr;
      readonly low: Expr;
      readonly high: Expr;
      readonly not: boolean;
      readonly pos: Pos;
    }
  | {
      readonly kind: "in";
      readonly expr: Expr;
      readonly list: readonly Expr[];
      readonly not: boolean;
      readonly pos: Pos;
    }
  | { readonly kind: "in-query"; readonly expr: Expr; readonly query: Query; readonly not: boolean; readonly pos: Pos }
  | {
      readonly kind: "is";
      readonly expr: Expr;
      readonly what: "NULL" | "TRUE" | "FALSE";
      readonly not: boolean;
      readonly pos: Pos;
    }
  | { readonly kind: "like"; readonly expr: Expr; readonly pattern: Expr; readonly not: boolean; readonly pos: Pos }
  | { readonly kind: "subquery"; readonly query: Query; readonly exists: boolean; readonly pos: Pos };

/** A relation in `FROM`. */
export type TableRef =
  | { readonly kind: "table"; readonly name: string; readonly alias?: string; readonly asOf?: Expr; readonly pos: Pos }
  | { readonly kind: "derived"; readonly query: Query; readonly alias?: string; readonly pos: Pos }
  | {
      readonly kind: "tvf";
      readonly fn: string;
      readonly table: string;
      readonly descriptor: string;
      readonly args: readonly Expr[];
      readonly alias?: string;
      readonly pos: Pos;
    }
  | {
      readonly kind: "join";
      readonly type: "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS";
      readonly left: TableRef;
      readonly right: TableRef;
      readonly on?: Expr;
      readonly pos: Pos;
    };

/** One `SELECT` list item. */
export interface SelectItem {
  readonly expr: Expr;
  readonly alias?: string;
}

/** A query: a `SELECT` block, or a `UNION [ALL]` of queries. */
export type Query =
  | {
      readonly kind: "select";
      readonly distinct: boolean;
      readonly items: readonly SelectItem[];
      readonly from?: TableRef;
      readonly where?: Expr;
      readonly groupBy: readonly Expr[];
      readonly having?: Expr;
      readonly orderBy: readonly OrderItem[];
      readonly limit?: number;
      readonly pos: Pos;
    }
  | { readonly kind: "union"; readonly all: boolean; readonly left: Query; readonly right: Query; readonly pos: Pos };

/** A column of `CREATE TABLE`: physical (typed) or computed (`name AS expr`). */
export type ColumnDef =
  | { readonly kind: "physical"; readonly name: string; readonly type: TypeName; readonly pos: Pos }
  | { readonly kind: "computed"; readonly name: string; readonly expr: Expr; readonly pos: Pos };

/** A statement of a script. */
export type Statement =
  | {
      readonly kind: "create-table";
      readonly name: string;
      readonly columns: readonly ColumnDef[];
      readonly watermark?: { readonly column: string; readonly expr: Expr; readonly pos: Pos };
      readonly primaryKey?: readonly string[];
      readonly partitionedBy?: readonly string[];
      readonly options: Readonly<Record<string, string>>;
      readonly pos: Pos;
    }
  | { readonly kind: "create-view"; readonly name: string; readonly query: Query; readonly pos: Pos }
  /** `CREATE MATERIALIZED TABLE t [(PRIMARY KEY (…) NOT ENFORCED)] [WITH (…)] AS SELECT …`: a riffle table and its insert. */
  | {
      readonly kind: "create-materialized-table";
      readonly name: string;
      readonly primaryKey?: readonly string[];
      readonly options: Readonly<Record<string, string>>;
      readonly query: Query;
      readonly pos: Pos;
    }
  | {
      readonly kind: "create-function";
      readonly name: string;
      readonly className: string;
      /** `CREATE FUNCTION f(TYPE, …)`: the declared argument types (remote functions). */
      readonly params?: readonly TypeName[];
      /** `RETURNS TYPE` (remote functions). */
      readonly returns?: TypeName;
      /** `LANGUAGE X`, upper-cased. */
      readonly language?: string;
      readonly pos: Pos;
    }
  | {
      readonly kind: "insert";
      readonly table: string;
      readonly columns?: readonly string[];
      /** `INSERT OVERWRITE` (refused when planned: a stream cannot overwrite its sink). */
      readonly overwrite?: true;
      readonly query: Query;
      readonly pos: Pos;
    }
  | { readonly kind: "query"; readonly query: Query; readonly pos: Pos }
  | { readonly kind: "statement-set"; readonly inserts: readonly Statement[]; readonly pos: Pos }
  | { readonly kind: "explain"; readonly statement: Statement; readonly pos: Pos }
  | { readonly kind: "set"; readonly key: string; readonly value: string; readonly pos: Pos }
  | { readonly kind: "show-tables"; readonly pos: Pos }
  | { readonly kind: "describe"; readonly name: string; readonly pos: Pos };

/** Where an expression starts in the text (a binary operator's `pos` is its operator). */
export function startOf(e: Expr): Pos {
  switch (e.kind) {
    case "binary":
      return startOf(e.left);
    case "between":
    case "in":
    case "in-query":
    case "is":
    case "like":
      return startOf(e.expr);
    default:
      return e.pos;
  }
}
