/** The {@link AuditLog} in memory: tests, and `riffle dev` without a state dir. */
import type { AuditEntry, AuditLog } from "../ports/audit-log.ts";

/** An audit log that ends with the process. */
export class InMemoryAuditLog implements AuditLog {
  private readonly entries: AuditEntry[] = [];

  async append(entry: AuditEntry): Promise<void> {
    this.entries.push(structuredClone(entry));
  }

  async read(): Promise<AuditEntry[]> {
    return this.entries.map((e) => structuredClone(e)).sort((a, b) => a.time - b.time);
  }
}
