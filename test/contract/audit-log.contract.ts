/** The AuditLog contract: what every implementation keeps, and in which order it reads it back. */
import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditLog } from "../../core/ports/audit-log.ts";

const entry = (time: number, principal: string, more: Partial<AuditEntry> = {}): AuditEntry => ({
  time,
  principal,
  route: "sql",
  tables: ["orders"],
  predicates: ["orders: region = 'north'"],
  masked: ["orders.card"],
  rows: 3,
  outcome: "allowed",
  ...more,
});

/** Runs the contract against the logs `make` returns (a fresh, empty one per test). */
export function auditLogContract(
  name: string,
  make: () => Promise<{ log: AuditLog; reopen: (() => Promise<AuditLog>) | undefined }>,
  durable: boolean,
): void {
  describe(`${name} (AuditLog contract)`, () => {
    it("reads back every entry as appended, oldest first", async () => {
      const { log } = await make();
      expect(await log.read()).toEqual([]);
      const entries = [
        entry(2000, "b", { outcome: "denied", grant: "read:orders", rows: 0, status: 403, job: "shop" }),
        entry(1000, "a", { checkpoint: 7, fingerprint: "f".repeat(64), query: "SELECT 'it''s' FROM t" }),
        entry(3000, "c", { tables: [], predicates: [], masked: [] }),
      ];
      for (const e of entries) await log.append(e);
      expect(await log.read()).toEqual([entries[1], entries[0], entries[2]]);
    });

    it("keeps entries of the same millisecond apart", async () => {
      const { log } = await make();
      await Promise.all(["a", "b", "c", "d"].map((p) => log.append(entry(5000, p))));
      expect((await log.read()).map((e) => e.principal).sort()).toEqual(["a", "b", "c", "d"]);
    });

    if (durable)
      it("keeps what it accepted for a new instance on the same storage", async () => {
        const { log, reopen } = await make();
        await log.append(entry(1, "a"));
        expect(reopen).toBeDefined();
        expect(await (await (reopen as () => Promise<AuditLog>)()).read()).toEqual([entry(1, "a")]);
      });
  });
}
