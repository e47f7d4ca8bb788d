/**
 * The `StateStore` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`).
 */

import type { MakeStateStore } from "./state-store.contract-helpers.ts";
import { stateStoreLogContract } from "./state-store.contract-log.ts";
import { stateStoreRestoreContract } from "./state-store.contract-restore.ts";
import { stateStoreStateContract } from "./state-store.contract-state.ts";

export type { MakeStateStore } from "./state-store.contract-helpers.ts";

/** Defines the contract suite for the store `make` creates. */
export function stateStoreContract(name: string, make: MakeStateStore): void {
  stateStoreLogContract(name, make);
  stateStoreStateContract(name, make);
  stateStoreRestoreContract(name, make);
}
