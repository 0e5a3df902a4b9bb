import { describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MAX_ENTRIES, TokenCache, tokenCacheKey } from '../../src/auth/token-cache.js';
import type { Principal } from '../../src/platform/http/authentication.js';
import { manualClock } from '../support/driver-clock.js';

const principal = (tokenId: number): Principal => ({ userId: 1, tokenId, abilities: ['orders'] });

function cacheOf(ttlMs = 1_000, maxEntries?: number) {
  const clock = manualClock();
  const cache = new TokenCache(clock, { ttlMs, ...(maxEntries !== undefined && { maxEntries }) });
  const put = (tokenId: number, key = tokenCacheKey(tokenId, `hash-${tokenId}`), expiresAt: number | null = null) => {
    cache.set(key, principal(tokenId), cache.mark(), expiresAt);
    return key;
  };
  return { clock, cache, put };
}

describe('the token cache', () => {
  it('keys a token by its id as sent and the hash of its secret', () => {
    expect(tokenCacheKey(7, 'abc')).toBe('7:abc');
    expect(tokenCacheKey(null, 'abc')).toBe(':abc');
  });

  it('serves a verified token until its TTL has passed, then forgets it', () => {
    const { clock, cache, put } = cacheOf(1_000);
    const key = put(1);
    clock.advance(999);
    expect(cache.get(key)).toEqual(principal(1));
    clock.advance(1);
    expect(cache.get(key)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never serves a token past its own expiry', () => {
    const { clock, cache, put } = cacheOf(1_000);
    const key = put(1, undefined, clock.now() + 300);
    clock.advance(300);
    expect(cache.get(key)).toBeUndefined();
    expect(put(2, undefined, clock.now())).toBeDefined();
    expect(cache.size).toBe(0);
  });

  it('caches nothing with a TTL of 0', () => {
    const { cache, put } = cacheOf(0);
    expect(cache.get(put(1))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses a TTL over 1000 ms, the bound on a revocation reaching every instance', () => {
    expect(() => new TokenCache(manualClock(), { ttlMs: 1_001 })).toThrow(RangeError);
    expect(() => new TokenCache(manualClock(), { ttlMs: -1 })).toThrow(RangeError);
  });

  it('evicts every entry of a revoked token at once, with and without its id, and keeps the others', () => {
    const { cache, put } = cacheOf();
    const withId = put(1);
    const bare = put(1, tokenCacheKey(null, 'hash-1'));
    const other = put(2);
    cache.evictToken(1);
    expect(cache.get(withId)).toBeUndefined();
    expect(cache.get(bare)).toBeUndefined();
    expect(cache.get(other)).toEqual(principal(2));
  });

  it('counts an entry’s life from before its row was read', () => {
    const { clock, cache } = cacheOf(1_000);
    const mark = cache.mark();
    clock.advance(400);
    cache.set(tokenCacheKey(1, 'h'), principal(1), mark, null);
    clock.advance(599);
    expect(cache.get(tokenCacheKey(1, 'h'))).toBeDefined();
    clock.advance(1);
    expect(cache.get(tokenCacheKey(1, 'h'))).toBeUndefined();
  });

  it('does not store a row read before a revocation that landed while it was read', () => {
    const { cache } = cacheOf();
    const mark = cache.mark();
    cache.evictToken(1);
    cache.set(tokenCacheKey(1, 'h'), principal(1), mark, null);
    expect(cache.size).toBe(0);
    cache.set(tokenCacheKey(1, 'h'), principal(1), cache.mark(), null);
    expect(cache.size).toBe(1);
  });

  it('holds at most its bound, dropping the oldest entry first', () => {
    const { cache, put } = cacheOf(1_000, 3);
    const keys = [1, 2, 3, 4].map((id) => put(id));
    expect(cache.size).toBe(3);
    expect(cache.get(keys[0]!)).toBeUndefined();
    expect(keys.slice(1).map((key) => cache.get(key)?.tokenId)).toEqual([2, 3, 4]);
  });

  it(`holds at most ${TOKEN_CACHE_MAX_ENTRIES} tokens by default`, () => {
    const { cache, put } = cacheOf();
    const first = put(1);
    for (let id = 2; id <= TOKEN_CACHE_MAX_ENTRIES + 5; id++) put(id);
    expect(cache.size).toBe(TOKEN_CACHE_MAX_ENTRIES);
    expect(cache.get(first)).toBeUndefined();
  });
});
