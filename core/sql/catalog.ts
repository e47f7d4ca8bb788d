/** The catalog of a SQL session: tables from `CREATE TABLE` and views from `CREATE VIEW`. */
import type { Query, Statement } from "./ast.ts";
import { invalid, type Pos } from "./errors.ts";
import { AGGREGATES, type ScalarFn, scalarFunction } from "./functions.ts";
import type { TableDef } from "./logical.ts";
import { typeOf } from "./types.ts";

/** A view: its query, bound each time it is used. */
export interface ViewDef {
  readonly name: string;
  readonly query: Query;
  readonly pos: Pos;
}

/** Tables and views by name (case-sensitive, as in Flink). */
export class Catalog {
  readonly tables = new Map<string, TableDef>();
  readonly views = new Map<string, ViewDef>();
  /** User-defined scalar functions, by upper-case name. */
  readonly functions = new Map<string, ScalarFn>();

  /** Registers a user-defined function; a second one of the same name, or a built-in's name, is an error. */
  addFunction(name: string, fn: ScalarFn, pos: Pos): void {
    const key = name.toUpperCase();
    if (this.functions.has(key) || scalarFunction(key) || AGGREGATES.has(key))
      throw invalid(pos, `a function named '${name}' already exists`);
    this.functions.set(key, fn);
  }

  /** Registers a `CREATE TABLE`; a second object of the same name is an error. */
  addTable(s: Extract<Statement, { kind: "create-table" }>): TableDef {
    this.checkFree(s.name, s.pos);
    const physical = s.columns.flatMap((c) => (c.kind === "physical" ? [{ name: c.name, type: typeOf(c.type) }] : []));
    const computed = s.columns.flatMap((c) =>
      c.kind === "computed" ? [{ name: c.name, expr: c.expr, pos: c.pos }] : [],
    );
    const names = new Set<string>();
    for (const c of s.columns) {
      if (names.has(c.name)) throw invalid(c.pos, `column '${c.name}' is declared twice in table '${s.name}'`);
      names.add(c.name);
    }
    if (s.watermark && !names.has(s.watermark.column))
      throw invalid(s.watermark.pos, `unknown column '${s.watermark.column}' in WATERMARK of table '${s.name}'`);
    const table: TableDef = {
      name: s.name,
      physical,
      computed,
      options: s.options,
      pos: s.pos,
      ...(s.watermark ? { watermark: s.watermark } : {}),
      ...(s.primaryKey ? { primaryKey: s.primaryKey } : {}),
      ...(s.partitionedBy ? { partitionedBy: s.partitionedBy } : {}),
    };
    for (const c of s.partitionedBy ?? [])
      if (!physical.some((f) => f.name === c))
        throw invalid(s.pos, `PARTITIONED BY column '${c}' is not a physical column of table '${s.name}'`);
    this.tables.set(s.name, table);
    return table;
  }

  /** Registers a `CREATE VIEW`. */
  addView(s: Extract<Statement, { kind: "create-view" }>): void {
    this.checkFree(s.name, s.pos);
    this.views.set(s.name, { name: s.name, query: s.query, pos: s.pos });
  }

  /** The table `name`, or an "unknown table" error at `pos`. */
  table(name: string, pos: Pos): TableDef {
    const t = this.tables.get(name);
    if (!t) throw invalid(pos, `unknown table '${name}'${this.views.has(name) ? " (it is a view)" : ""}`);
    return t;
  }

  private checkFree(name: string, pos: Pos) {
    if (this.tables.has(name) || this.views.has(name))
      throw invalid(pos, `a table or view named '${name}' already exists`);
  }
}
