import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/platform/store/store.js';

export interface StoreFixture {
  store: Store;
  /**
   * Lets `ms` pass for the store. A driver with an injectable clock moves it; one whose expiry is
   * kept by the server (Redis) sleeps, so the suite keeps its windows short.
   */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** A fresh, empty store per call. */
  create(): Promise<StoreFixture>;
  /**
   * The lifetime of the suite's keys; default 500 ms. The suite's margins are fractions of it: a
   * real-time store sets it long enough that a stall of the busy machine stays inside them.
   */
  ttlMs?: number;
}

/** The behaviour every store driver must show; each driver's test file runs it once. */
export function storeContract(name: string, harness: StoreHarness): void {
  const TTL = harness.ttlMs ?? 500;
  const part = (fraction: number) => Math.round(TTL * fraction);

  describe(`store contract: ${name}`, () => {
    const open: StoreFixture[] = [];

    afterEach(async () => {
      for (const fixture of open.splice(0)) {
        await fixture.store.close();
        await fixture.cleanup();
      }
    });

    async function setup(): Promise<StoreFixture> {
      const fixture = await harness.create();
      open.push(fixture);
      return fixture;
    }

    it('sets a key only when absent, and again once it expired', async () => {
      const { store, advance } = await setup();
      expect(await store.setIfAbsent('lock:a', 'owner-1', TTL)).toBe(true);
      expect(await store.setIfAbsent('lock:a', 'owner-2', TTL)).toBe(false);
      expect(await store.get('lock:a')).toBe('owner-1');
      await advance(part(0.5));
      expect(await store.setIfAbsent('lock:a', 'owner-2', TTL)).toBe(false);
      await advance(part(0.5) + 1);
      expect(await store.setIfAbsent('lock:a', 'owner-2', TTL)).toBe(true);
      expect(await store.get('lock:a')).toBe('owner-2');
    });

    it('set overwrites the value and the expiry', async () => {
      const { store, advance } = await setup();
      await store.set('k', 'one', TTL);
      await advance(part(0.5));
      await store.set('k', 'two', TTL);
      expect(await store.get('k')).toBe('two');
      await advance(part(0.7));
      expect(await store.get('k')).toBe('two');
      expect(await store.setIfAbsent('k', 'three', TTL)).toBe(false);
    });

    it('get returns null for a missing key and after expiry', async () => {
      const { store, advance } = await setup();
      expect(await store.get('missing')).toBeNull();
      await store.set('k', 'v', TTL);
      expect(await store.get('k')).toBe('v');
      await advance(TTL + 1);
      expect(await store.get('k')).toBeNull();
    });

    it('delete removes a key, and ignores a missing one', async () => {
      const { store } = await setup();
      await store.set('k', 'v', TTL);
      await store.delete('k');
      expect(await store.get('k')).toBeNull();
      await expect(store.delete('k')).resolves.toBeUndefined();
      expect(await store.setIfAbsent('k', 'again', TTL)).toBe(true);
    });

    it('deleteIfValue deletes only while the key holds the value', async () => {
      const { store } = await setup();
      await store.set('lock', 'me', TTL);
      expect(await store.deleteIfValue('lock', 'someone-else')).toBe(false);
      expect(await store.get('lock')).toBe('me');
      expect(await store.deleteIfValue('lock', 'me')).toBe(true);
      expect(await store.get('lock')).toBeNull();
      expect(await store.deleteIfValue('lock', 'me')).toBe(false);
    });

    it('deleteIfValue reports false once the key expired', async () => {
      const { store, advance } = await setup();
      await store.set('lock', 'me', TTL);
      await advance(TTL + 1);
      expect(await store.deleteIfValue('lock', 'me')).toBe(false);
      expect(await store.setIfAbsent('lock', 'next', TTL)).toBe(true);
      expect(await store.deleteIfValue('lock', 'me')).toBe(false);
      expect(await store.get('lock')).toBe('next');
    });

    it('extendIfValue renews the expiry only while the key holds the value', async () => {
      const { store, advance } = await setup();
      await store.set('lease', 'me', TTL);
      await advance(part(0.5));
      expect(await store.extendIfValue('lease', 'someone-else', TTL)).toBe(false);
      expect(await store.extendIfValue('lease', 'me', TTL)).toBe(true);
      await advance(part(0.7));
      expect(await store.get('lease')).toBe('me');
      await advance(TTL);
      expect(await store.extendIfValue('lease', 'me', TTL)).toBe(false);
      expect(await store.get('lease')).toBeNull();
      expect(await store.setIfAbsent('lease', 'next', TTL)).toBe(true);
    });

    it('increment counts 1, 2, 3 with the remaining ttl, and starts over after expiry', async () => {
      const { store, advance } = await setup();
      const first = await store.increment('rate:ip', TTL);
      expect(first.count).toBe(1);
      expect(first.ttlMs).toBeGreaterThan(part(0.9));
      expect(first.ttlMs).toBeLessThanOrEqual(TTL);
      await advance(part(0.2));
      const second = await store.increment('rate:ip', TTL);
      expect(second.count).toBe(2);
      expect(second.ttlMs).toBeLessThanOrEqual(part(0.8));
      // The first increment's expiry, not a fresh one; a real-time store's sleep may overshoot on a busy machine.
      expect(second.ttlMs).toBeGreaterThan(part(0.4));
      await advance(part(0.2));
      const third = await store.increment('rate:ip', TTL);
      expect(third.count).toBe(3);
      expect(third.ttlMs).toBeLessThanOrEqual(part(0.6));
      await advance(TTL);
      const fresh = await store.increment('rate:ip', TTL);
      expect(fresh.count).toBe(1);
      expect(fresh.ttlMs).toBeGreaterThan(part(0.9));
      expect((await store.increment('rate:other', TTL)).count).toBe(1);
    });

    it('increments by a given amount, with the expiry of the first increment', async () => {
      const { store, advance } = await setup();
      expect((await store.increment('batch', TTL, 5)).count).toBe(5);
      await advance(part(0.2));
      const second = await store.increment('batch', TTL, 7);
      expect(second.count).toBe(12);
      expect(second.ttlMs).toBeLessThanOrEqual(part(0.8));
      expect((await store.increment('batch', TTL)).count).toBe(13);
      await advance(TTL);
      expect((await store.increment('batch', TTL, 4)).count).toBe(4);
    });

    it('lets exactly one of 50 concurrent setIfAbsent calls win', async () => {
      const { store } = await setup();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.setIfAbsent('contended', `caller-${i}`, TTL)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get('contended')).toBe(`caller-${results.indexOf(true)}`);
    });

    it('gives 50 concurrent increments the counts 1 to 50', async () => {
      const { store } = await setup();
      const results = await Promise.all(Array.from({ length: 50 }, () => store.increment('counter', TTL)));
      expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('answers ping', async () => {
      const { store } = await setup();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
