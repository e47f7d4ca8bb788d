/**
 * The access record of one HTTP request, for the audit: who (the authenticated
 * principal), which route and job, what it touched (tables or the ingest source),
 * the predicates and masks applied, rows returned or accepted, the checkpoint read
 * and a result's fingerprint. The router fills in the route; a route handler adds
 * what it touched through {@link RouteAccess}; `api.ts` appends the entry with the
 * status answered, whatever it is (allowed, denied or failed).
 */
import { ForbiddenError, type Principal } from "../../core/governance/principal.ts";
import type { AuditEntry } from "../../core/ports/audit-log.ts";

/** The principal of a request that presented no valid credential, in the audit. */
export const UNAUTHENTICATED = "(unauthenticated)";

/** What a route handler records of its access (a read route sets every field it knows). */
export interface RouteAccess {
  principal?: Principal;
  route?: string;
  job?: string;
  tables: string[];
  predicates: string[];
  masked: string[];
  rows: number;
  checkpoint?: number;
  fingerprint?: string;
  query?: string;
}

/** An empty access record. */
export function newAccess(): RouteAccess {
  return { tables: [], predicates: [], masked: [], rows: 0 };
}

/**
 * The audit entry of a finished request: allowed below 400, denied on 401/403,
 * failed otherwise; `error`, when the request failed, names a missing grant.
 */
export function auditEntryOf(
  access: RouteAccess,
  method: string,
  path: string,
  status: number,
  time: number,
  error?: unknown,
): AuditEntry {
  const denied = status === 401 || status === 403;
  const { principal, route, job, checkpoint, fingerprint, query } = access;
  return {
    time,
    principal: principal?.name ?? UNAUTHENTICATED,
    route: route ?? `${method} ${path}`,
    ...(job === undefined ? {} : { job }),
    tables: access.tables,
    predicates: access.predicates,
    masked: access.masked,
    rows: status < 400 ? access.rows : 0,
    outcome: status < 400 ? "allowed" : denied ? "denied" : "failed",
    status,
    ...(error instanceof ForbiddenError ? { grant: error.grant } : {}),
    ...(checkpoint === undefined ? {} : { checkpoint }),
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(query === undefined ? {} : { query }),
  };
}
