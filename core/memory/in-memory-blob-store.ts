/**
 * The {@link BlobStore} port in memory, for tests, the simulation and the
 * contract suite. Objects are copied in and out, as a store across a network would.
 */

import type { BlobStore } from "../ports/blob-store.ts";

/** Objects in a map. */
export class InMemoryBlobStore implements BlobStore {
  private readonly objects = new Map<string, Uint8Array>();
  /** Requests made, by kind, for tests. */
  readonly requests = { put: 0, get: 0, delete: 0, list: 0 };

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.requests.put++;
    this.objects.set(key, Uint8Array.from(bytes));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.requests.get++;
    const b = this.objects.get(key);
    return b === undefined ? undefined : Uint8Array.from(b);
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.requests.delete += keys.length;
    for (const k of keys) this.objects.delete(k);
  }

  async list(prefix: string): Promise<string[]> {
    this.requests.list++;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Every key held (for tests). */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }
}
