/** Errors of the SQL layer: every one names a line and column of the script, never a stack trace. */
import { RiffleError } from "../errors.ts";

/** A place in the SQL text, 1-based. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/** Why a SQL statement was refused. */
export type SqlErrorKind = "parse" | "validation" | "unsupported" | "changelog";

/**
 * A SQL script was refused at parse or plan time: a syntax error (with what was expected), an
 * unknown table or column, a type mismatch, an unsupported construct (named), or a pipeline whose
 * changelog a sink cannot take. The message starts with `line L, column C:`.
 */
export class SqlError extends RiffleError {
  /** What kind of refusal. */
  readonly kind: SqlErrorKind;
  /** Where in the script (undefined only when no position applies, e.g. an empty script). */
  readonly pos: Pos | undefined;
  constructor(kind: SqlErrorKind, pos: Pos | undefined, message: string, options?: { cause?: unknown }) {
    super("sql", pos ? `line ${pos.line}, column ${pos.column}: ${message}` : message, options);
    this.kind = kind;
    this.pos = pos;
  }
}

/** An unsupported construct, named. */
export function unsupported(pos: Pos | undefined, what: string): SqlError {
  return new SqlError("unsupported", pos, `${what} is not supported yet`);
}

/** A validation error (unknown name, type mismatch, misuse). */
export function invalid(pos: Pos | undefined, message: string): SqlError {
  return new SqlError("validation", pos, message);
}
