/**
 * The `BlobStore` contract, run against every implementation (`blob-store.test.ts`):
 * what segment offloading (`core/log/payload.ts`) relies on.
 */

import { describe, expect, it } from "vitest";
import type { BlobStore } from "../../core/ports/blob-store.ts";

/** A fresh, empty store (its own key space) and how to release it. */
export type MakeBlobStore = () => Promise<{ store: BlobStore; prefix: string; close?: () => Promise<void> }>;

/** Defines the contract suite for the store `make` creates. */
export function blobStoreContract(name: string, make: MakeBlobStore): void {
  describe(`${name}: BlobStore contract`, () => {
    it("returns the bytes put under a key, byte for byte, and undefined for a missing key", async () => {
      const { store, prefix, close } = await make();
      const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) % 256);
      await store.put(`${prefix}a/s1-x`, bytes);
      expect(Buffer.from((await store.get(`${prefix}a/s1-x`)) ?? [])).toEqual(Buffer.from(bytes));
      expect(await store.get(`${prefix}a/s2-x`)).toBeUndefined();
      await store.put(`${prefix}a/empty`, new Uint8Array());
      expect((await store.get(`${prefix}a/empty`))?.length).toBe(0);
      await close?.();
    });

    it("lists every key under a prefix in ascending order, and only those", async () => {
      const { store, prefix, close } = await make();
      const keys = [`${prefix}t/1/s000000000002-b`, `${prefix}t/1/s000000000001-a`, `${prefix}t/10/s000000000001-c`];
      for (const k of keys) await store.put(k, Buffer.from(k));
      expect(await store.list(`${prefix}t/1/`)).toEqual([keys[1], keys[0]]);
      expect(await store.list(`${prefix}t/`)).toEqual([keys[1], keys[0], keys[2]]);
      expect(await store.list(`${prefix}none/`)).toEqual([]);
      await close?.();
    });

    it("lists past one page of keys", async () => {
      const { store, prefix, close } = await make();
      const keys = Array.from({ length: 1005 }, (_, i) => `${prefix}many/k${String(i).padStart(5, "0")}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from("x"))));
      }
      expect(await store.list(`${prefix}many/`)).toEqual(keys);
      await close?.();
    }, 60_000);

    it("deletes keys, missing ones included, without touching others", async () => {
      const { store, prefix, close } = await make();
      await store.put(`${prefix}d/1`, Buffer.from("1"));
      await store.put(`${prefix}d/2`, Buffer.from("2"));
      await store.delete([`${prefix}d/1`, `${prefix}d/never`]);
      expect(await store.get(`${prefix}d/1`)).toBeUndefined();
      expect(Buffer.from((await store.get(`${prefix}d/2`)) ?? []).toString()).toBe("2");
      expect(await store.list(`${prefix}d/`)).toEqual([`${prefix}d/2`]);
      await close?.();
    });

    it("does not keep a reference to the caller's buffer", async () => {
      const { store, prefix, close } = await make();
      const bytes = Buffer.from("abc");
      await store.put(`${prefix}c/1`, bytes);
      bytes[0] = 0x7a;
      expect(Buffer.from((await store.get(`${prefix}c/1`)) ?? []).toString()).toBe("abc");
      await close?.();
    });
  });
}
