/**
 * Principals and grants of governed access (issue 16). An API key maps to a
 * principal: a name, the grants it holds, and its row policies and column masks per
 * table ({@link TablePolicy}). Grants:
 *
 * - `ingest:<source>` (or `ingest:*`): append records to an ingest source;
 * - `read:<table>` (or `read:*`): read a table through SQL (query, lookup, changelog);
 * - `monitor`: the job's status, checkpoints, plan, savepoint list, live events;
 * - `admin`: savepoints, restores, dead letters and their replay, and all of `monitor`;
 * - `auditor`: read the audit table `riffle_audit`;
 * - `unmask`: see the columns the classifier marks sensitive unmasked;
 * - `*`: every grant (the single principal of a plain `RIFFLE_API_KEYS`).
 *
 * {@link authorize} is the one check every route and read path calls; a missing grant
 * is a {@link ForbiddenError} naming the grant (a 403 from the HTTP API).
 */
import { RiffleError } from "../errors.ts";

/** A principal's row policy and column masks on one table; both are SQL over the table's columns. */
export interface TablePolicy {
  /** A predicate: the principal sees only the rows it holds for, e.g. `region = 'north'`. */
  readonly rows?: string;
  /** Column name to a masking expression of the same type, e.g. `{"card": "mask_card(card)"}`. */
  readonly masks?: Readonly<Record<string, string>>;
}

/** Who made a request: a name, grants, and policies by table name. */
export interface Principal {
  readonly name: string;
  readonly grants: readonly string[];
  readonly policies?: Readonly<Record<string, TablePolicy>>;
}

/** The grants that take no argument. */
const PLAIN_GRANTS: ReadonlySet<string> = new Set(["admin", "monitor", "auditor", "unmask", "*"]);
/** The grants that name a source or a table (or `*`). */
const SCOPED_GRANTS: ReadonlySet<string> = new Set(["ingest", "read"]);

/** A grant is not one riffle knows. */
export class GrantError extends RiffleError {
  constructor(message: string) {
    super("usage", message);
  }
}

/**
 * Checks the spelling of a grant and returns it.
 * @throws GrantError naming the grants riffle knows
 */
export function checkGrant(grant: string): string {
  if (PLAIN_GRANTS.has(grant)) return grant;
  const colon = grant.indexOf(":");
  if (colon > 0 && SCOPED_GRANTS.has(grant.slice(0, colon)) && grant.length > colon + 1) return grant;
  throw new GrantError(
    `unknown grant '${grant}': use ingest:<source>, read:<table> (or read:*), monitor, admin, auditor, unmask or *`,
  );
}

/** True when `principal` holds `grant`: exactly, through `*`, `ingest:*`/`read:*`, or `admin` for `monitor`. */
export function hasGrant(principal: Principal, grant: string): boolean {
  const held = principal.grants;
  if (held.includes("*") || held.includes(grant)) return true;
  if (grant === "monitor") return held.includes("admin");
  const colon = grant.indexOf(":");
  return colon > 0 && held.includes(`${grant.slice(0, colon)}:*`);
}

/** A principal lacks the grant a request needs (HTTP 403 `forbidden`). */
export class ForbiddenError extends RiffleError {
  /** The grant that was needed. */
  readonly grant: string;
  /** Who asked. */
  readonly principal: string;
  constructor(principal: string, grant: string, what: string) {
    super("forbidden", `principal '${principal}' lacks grant '${grant}' needed to ${what}`);
    this.grant = grant;
    this.principal = principal;
  }
}

/**
 * Passes when `principal` holds `grant`, else throws.
 * @param what the access, for the message (e.g. `read table 'orders'`)
 * @throws ForbiddenError naming the grant
 */
export function authorize(principal: Principal, grant: string, what: string): void {
  if (!hasGrant(principal, grant)) throw new ForbiddenError(principal.name, grant, what);
}

/** The principal of a plain key list (`RIFFLE_API_KEYS`): every grant, no policy, as before grants existed. */
export const ALL_GRANTS_PRINCIPAL: Principal = { name: "api-key", grants: ["*"] };
