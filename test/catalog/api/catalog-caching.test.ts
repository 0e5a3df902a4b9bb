import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogCaching } from '../../../src/catalog/api/catalog.caching.js';
import type { CatalogVersion } from '../../../src/catalog/catalog-versions.repository.js';
import { manualClock } from '../../support/driver-clock.js';

/** One catalog route over a fake catalog: its version and its content are the test's to change. */
async function harness(options: { maxBytes?: number; recheckMs?: number } = {}) {
  const clock = manualClock();
  const state = { version: '1', content: 'first', versionReads: 0, produced: 0 };
  const caching = new CatalogCaching({
    version: async (): Promise<CatalogVersion> => {
      state.versionReads += 1;
      return { version: state.version, changedAt: 0 };
    },
    cacheControl: 'public, max-age=5',
    maxBytes: options.maxBytes ?? 1_000_000,
    recheckMs: options.recheckMs ?? 50,
    clock,
  });
  const app = Fastify();
  const schema = { type: 'object', properties: { content: { type: 'string' } } };
  app.get('/thing', { schema: { response: { 200: schema } } }, (request, reply) =>
    caching.read(request, reply, async () => {
      state.produced += 1;
      return { content: state.content };
    }),
  );
  await app.ready();
  apps.push(app);
  const get = async (headers: Record<string, string> = {}, url = '/thing') => {
    const response = await app.inject({ method: 'GET', url, headers });
    return { status: response.statusCode, body: response.body, tag: response.headers.etag as string };
  };
  return { caching, clock, state, get };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('catalog caching', () => {
  it('serves an answer from memory at the same version, and produces it anew at the next', async () => {
    const { state, get, clock } = await harness();
    const first = await get();
    expect(first).toMatchObject({ status: 200, body: '{"content":"first"}' });
    expect((await get()).body).toBe('{"content":"first"}');
    expect(state.produced).toBe(1);
    state.content = 'second';
    state.version = '2';
    clock.advance(50);
    const second = await get({ 'if-none-match': first.tag });
    expect(second).toMatchObject({ status: 200, body: '{"content":"second"}' });
    expect(second.tag).not.toBe(first.tag);
    expect(state.produced).toBe(2);
  });

  it('trusts a version it read for the recheck interval, and reads it on every request after a write of its own', async () => {
    const { caching, state, get, clock } = await harness({ recheckMs: 50 });
    await get();
    await get();
    expect(state.versionReads).toBe(1);
    // Another process's write is seen once the interval has passed.
    state.version = '2';
    state.content = 'elsewhere';
    expect((await get()).body).toBe('{"content":"first"}');
    clock.advance(50);
    expect((await get()).body).toBe('{"content":"elsewhere"}');
    const reads = state.versionReads;
    // This process's own write: read on every request until it has surely committed.
    caching.changed();
    state.version = '3';
    state.content = 'mine';
    expect((await get()).body).toBe('{"content":"mine"}');
    await get();
    expect(state.versionReads).toBe(reads + 2);
    clock.advance(1_000);
    await get();
    await get();
    expect(state.versionReads).toBe(reads + 3);
  });

  it('forgets the least recently used answers past its budget, and produces them again when asked', async () => {
    // One body of '{"content":"first"}' (19 characters) fits, two do not.
    const { state, get } = await harness({ maxBytes: 30, recheckMs: 1_000 });
    await get({}, '/thing?page=1');
    await get({}, '/thing?page=1');
    expect(state.produced).toBe(1);
    await get({}, '/thing?page=2');
    expect(state.produced).toBe(2);
    await get({}, '/thing?page=2');
    expect(state.produced).toBe(2);
    await get({}, '/thing?page=1');
    expect(state.produced).toBe(3);
  });

  it('keeps only the tags when the bodies do not fit the budget, and still answers 304', async () => {
    const { state, get } = await harness({ maxBytes: 0, recheckMs: 0 });
    const first = await get();
    expect((await get({ 'if-none-match': first.tag })).status).toBe(304);
    expect((await get()).body).toBe('{"content":"first"}');
    expect(state.produced).toBe(2);
  });
});
