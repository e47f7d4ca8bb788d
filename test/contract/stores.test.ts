// Runs the storage-port contracts against every implementation, so they behave alike.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteAuditLog } from "../../core/durable/sqlite-audit-log.ts";
import { openStateDir, type StateDir } from "../../core/durable/sqlite-db.ts";
import { SqliteIngestLog } from "../../core/durable/sqlite-ingest-log.ts";
import { OffloadingStateStore } from "../../core/log/offloading-store.ts";
import { InMemoryAuditLog } from "../../core/memory/in-memory-audit-log.ts";
import { InMemoryBlobStore } from "../../core/memory/in-memory-blob-store.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryIngestLog } from "../../core/memory/in-memory-ingest-log.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { InMemoryTableStore } from "../../core/memory/in-memory-table-store.ts";
import { InMemoryTimerHints } from "../../core/memory/in-memory-timer-hints.ts";
import { DelegatingOutputStore } from "../../core/ports/delegating-output-store.ts";
import { auditLogContract } from "./audit-log.contract.ts";
import { checkpointStoreContract } from "./checkpoint-store.contract.ts";
import { ingestLogContract } from "./ingest-log.contract.ts";
import { outputStoreContract } from "./output-store.contract.ts";
import { stateStoreContract } from "./state-store.contract.ts";
import { tableStoreContract } from "./table-store.contract.ts";
import { timerHintsContract } from "./timer-hints.contract.ts";

/** A state dir of its own in a fresh temp dir, removed on close. */
function freshStateDir(): { dir: StateDir; close: () => void } {
  const path = mkdtempSync(join(tmpdir(), "riffle-contract-"));
  const dir = openStateDir(path, { create: true, job: "contract" });
  return {
    dir,
    close: () => {
      dir.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

stateStoreContract("InMemoryStateStore", async () => ({ store: new InMemoryStateStore() }));
stateStoreContract("InMemoryStateStore (copy)", async () => ({ store: new InMemoryStateStore({ copy: true }) }));
stateStoreContract("OffloadingStateStore over InMemoryStateStore", async () => ({
  store: new OffloadingStateStore(new InMemoryStateStore({ copy: true }), new InMemoryBlobStore(), {
    job: "job",
    inlineMaxBytes: 0,
  }),
}));
stateStoreContract("SqliteStateStore", async () => {
  const { dir, close } = freshStateDir();
  return { store: dir.stateStore, close };
});

checkpointStoreContract("InMemoryCheckpointStore", async () => ({ store: new InMemoryCheckpointStore() }));
checkpointStoreContract("SqliteCheckpointStore", async () => {
  const { dir, close } = freshStateDir();
  return { store: dir.checkpointStore, close };
});

ingestLogContract("InMemoryIngestLog", async () => ({ log: new InMemoryIngestLog() }));
ingestLogContract("SqliteIngestLog", async () => {
  const { dir, close } = freshStateDir();
  return { log: new SqliteIngestLog(dir.db), close };
});
outputStoreContract("InMemoryOutputStore", async () => ({ store: new InMemoryOutputStore() }));
// The base of the wrappers (observed output, the simulation's crashing output) forwards every call.
outputStoreContract("DelegatingOutputStore", async () => ({
  store: new DelegatingOutputStore(new InMemoryOutputStore()),
}));
tableStoreContract("InMemoryTableStore", async () => new InMemoryTableStore());
tableStoreContract("SqliteTableStore", async () => freshStateDir().dir.tableStore);
timerHintsContract("InMemoryTimerHints", async () => new InMemoryTimerHints());

auditLogContract("InMemoryAuditLog", async () => ({ log: new InMemoryAuditLog(), reopen: undefined }), false);
auditLogContract(
  "SqliteAuditLog",
  async () => {
    const path = mkdtempSync(join(tmpdir(), "riffle-contract-"));
    const dir = openStateDir(path, { create: true, job: "contract" });
    const reopen = async () => {
      dir.close();
      return new SqliteAuditLog(openStateDir(path, { create: false, job: "contract" }).db);
    };
    return { log: new SqliteAuditLog(dir.db), reopen };
  },
  true,
);
