/**
 * The one rule for names a user gives (job, operator uid, sink, broadcast state,
 * savepoint): 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'. They become parts
 * of store keys, queue names and URLs, so nothing else is allowed.
 */

import { JobDefinitionError } from "./errors.ts";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The rule, as error messages state it. */
export const NAME_RULE = "1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'";

/** True when `name` follows the rule. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/**
 * `name`, after checking it follows the rule; else a {@link JobDefinitionError}
 * `<what> '<name>' must be 1-64 characters of …`.
 */
export function checkName(what: string, name: string): string {
  if (!isValidName(name)) throw new JobDefinitionError(`${what} '${name}' must be ${NAME_RULE}`);
  return name;
}
