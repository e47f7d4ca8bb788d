/**
 * The `BlobStore` port: immutable objects by key, where a store keeps what is too
 * large to be worth writing into its own items (segment payloads on AWS go to S3).
 * Implementations: `InMemoryBlobStore` here, `S3BlobStore` in functions/aws.
 *
 * The contract: `put` of a key that exists replaces it (callers never reuse a key:
 * every key carries its writer's random id); `get` of a missing key resolves
 * `undefined`; `delete` of a missing key succeeds; `list` returns every key under a
 * prefix, in ascending order.
 */

/** Objects by key. */
export interface BlobStore {
  /** Stores `bytes` under `key`. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`, or `undefined` when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Deletes `keys` (missing ones are no error). */
  delete(keys: readonly string[]): Promise<void>;
  /** Every key that starts with `prefix`, ascending. */
  list(prefix: string): Promise<string[]>;
}
