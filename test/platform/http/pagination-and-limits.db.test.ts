import { afterEach, describe, expect, it } from 'vitest';
import { paginate, offsetOf } from '../../../src/platform/http/pagination.js';
import { rateLimitStore } from '../../../src/platform/http/rate-limit-store.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { manualClock } from '../../support/driver-clock.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

describe('paginate', () => {
  it('gives Laravel’s length-aware paginator keys', () => {
    const page = paginate(['c', 'd'], 5, { page: 2, perPage: 2 }, '/api/orders');
    expect(page).toEqual({
      data: ['c', 'd'],
      links: {
        first: '/api/orders?page=1&per_page=2',
        last: '/api/orders?page=3&per_page=2',
        prev: '/api/orders?page=1&per_page=2',
        next: '/api/orders?page=3&per_page=2',
      },
      meta: { current_page: 2, from: 3, last_page: 3, path: '/api/orders', per_page: 2, to: 4, total: 5 },
    });
  });

  it('leaves per_page out of the links at the default of 15, and keeps other query parameters', () => {
    const page = paginate([], 0, { page: 1, perPage: 15 }, '/x', { q: 'a b' });
    expect(page.links).toEqual({ first: '/x?q=a+b&page=1', last: '/x?q=a+b&page=1', prev: null, next: null });
    expect(page.meta).toMatchObject({ from: null, to: null, last_page: 1, total: 0 });
  });

  it('points prev at the last page from a page past the end', () => {
    const page = paginate([], 3, { page: 9, perPage: 2 }, '/x');
    expect(page.links.prev).toBe('/x?page=2&per_page=2');
    expect(page.links.next).toBeNull();
  });

  it('computes the offset of a page', () => {
    expect(offsetOf({ page: 1, perPage: 15 })).toBe(0);
    expect(offsetOf({ page: 3, perPage: 10 })).toBe(20);
  });
});

describe('rate limit store', () => {
  let sqlite: TempDatabase | undefined;
  afterEach(async () => {
    await sqlite?.cleanup();
    sqlite = undefined;
  });

  async function storeCtor() {
    sqlite = await createTempDatabase('intake-ratelimit');
    const clock = manualClock();
    return { Ctor: rateLimitStore(new DatabaseStore(sqlite.database, clock)), clock };
  }

  function incr(store: { incr: (k: string, cb: (e: Error | null, r?: { current: number; ttl: number }) => void, w: number, m: number) => void }, key: string) {
    return new Promise<{ current: number; ttl: number }>((resolve, reject) => store.incr(key, (e, r) => (e ? reject(e) : resolve(r!)), 60_000, 10));
  }

  it('counts per key within the window, then starts again', async () => {
    const { Ctor, clock } = await storeCtor();
    const store = new Ctor({} as never);
    expect(await incr(store, 'ip')).toEqual({ current: 1, ttl: 60_000 });
    clock.advance(1000);
    expect(await incr(store, 'ip')).toEqual({ current: 2, ttl: 59_000 });
    expect((await incr(store, 'other')).current).toBe(1);
    clock.advance(59_000);
    expect((await incr(store, 'ip')).current).toBe(1);
  });

  it('gives each route its own counter', async () => {
    const { Ctor } = await storeCtor();
    const root = new Ctor({} as never);
    const login = root.child({ routeInfo: { method: 'POST', url: '/api/login' } } as never);
    const register = root.child({ routeInfo: { method: 'POST', url: '/api/register' } } as never);
    await incr(login, 'ip');
    expect((await incr(login, 'ip')).current).toBe(2);
    expect((await incr(register, 'ip')).current).toBe(1);
  });

  it('passes a store failure to the callback', async () => {
    const { Ctor } = await storeCtor();
    const store = new Ctor({} as never);
    await sqlite!.cleanup();
    await expect(incr(store, 'ip')).rejects.toBeInstanceOf(Error);
  });
});
