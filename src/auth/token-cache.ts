import type { Clock } from '../platform/clock.js';
import type { Principal } from '../platform/http/authentication.js';

/** The most tokens kept at once; past it the oldest entry goes. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;
/** The longest an entry may live: a token revoked on one instance is refused by every other within it. */
export const TOKEN_CACHE_MAX_TTL_MS = 1_000;

export interface TokenCacheOptions {
  /** How long a verified token is trusted without reading its row again (0: never cached). */
  ttlMs: number;
  maxEntries?: number;
}

/** Taken before a token's row is read: when, and which evictions had happened by then. */
export interface TokenCacheMark {
  readonly at: number;
  readonly generation: number;
}

interface Entry {
  principal: Principal;
  expiresAt: number;
  /** Half-way through the entry's life: a hit from then on reads the row again in the background. */
  refreshAt: number;
}

/** A live entry, and whether it is old enough to be refreshed ahead of its expiry. */
export interface CachedToken {
  principal: Principal;
  refreshDue: boolean;
}

/** The cache key of a bearer token: its id as sent (none for a bare secret) and the sha256 of its secret. */
export function tokenCacheKey(tokenId: number | null, secretHash: string): string {
  return `${tokenId ?? ''}:${secretHash}`;
}

/**
 * Tokens verified in this process in the last moment, so that a burst of requests with one token
 * costs one lookup. A revocation here evicts at once; one on another instance is seen when the
 * entry expires, at most `TOKEN_CACHE_MAX_TTL_MS` later.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  /** Moves on every eviction: a lookup that started before one must not store what it read. */
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    options: TokenCacheOptions,
  ) {
    if (!(options.ttlMs >= 0 && options.ttlMs <= TOKEN_CACHE_MAX_TTL_MS)) throw new RangeError(`token cache TTL must be 0..${TOKEN_CACHE_MAX_TTL_MS} ms, got ${options.ttlMs}`);
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Principal | undefined {
    return this.lookup(key)?.principal;
  }

  lookup(key: string): CachedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (entry.expiresAt > now) return { principal: entry.principal, refreshDue: now >= entry.refreshAt };
    this.entries.delete(key);
    return undefined;
  }

  /** Which evictions have happened: a lookup started under another generation must not be shared. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Forgets one key whose row no longer verifies (revoked or expired elsewhere). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Taken before reading a token's row, and handed back to `set`. */
  mark(): TokenCacheMark {
    return { at: this.clock.now(), generation: this.generation };
  }

  /**
   * Stores a principal read since `mark`, unless a token was evicted meanwhile. The entry's life
   * counts from the mark, not from now: the row may have been revoked elsewhere while it was read.
   * It never outlives the token itself.
   */
  set(key: string, principal: Principal, mark: TokenCacheMark, tokenExpiresAt: number | null): void {
    if (this.ttlMs === 0 || mark.generation !== this.generation) return;
    const expiresAt = Math.min(mark.at + this.ttlMs, tokenExpiresAt ?? Infinity);
    if (expiresAt <= this.clock.now()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { principal, expiresAt, refreshAt: mark.at + this.ttlMs / 2 });
  }

  /** Forgets every entry of a revoked token. */
  evictToken(tokenId: number): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (entry.principal.tokenId === tokenId) this.entries.delete(key);
  }
}
