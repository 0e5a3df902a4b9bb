/**
 * A key-value store with expiry. It backs the duplicate guard, locks, rate limits and, with Redis,
 * the Idempotency-Keys of requests in flight (platform/idempotency/idempotency-locks.ts). Every
 * operation is atomic on its own.
 */
export interface Store {
  /** Sets `key` only when it is absent or expired; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /** Deletes `key` only while it still holds `value` (safe lock release); true when deleted. */
  deleteIfValue(key: string, value: string): Promise<boolean>;
  /** Sets a new expiry on `key` only while it still holds `value` (a lease renewed by its holder); true when renewed. */
  extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Adds `by` (one unless given) and returns the new count; the expiry is set by the increment that creates the key. */
  increment(key: string, ttlMs: number, by?: number): Promise<{ count: number; ttlMs: number }>;
  /** Deletes up to `limit` expired keys and returns how many; only for a store whose keys do not expire by themselves. */
  sweepExpired?(limit: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
