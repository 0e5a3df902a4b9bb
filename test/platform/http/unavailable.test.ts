import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/platform/http/app.js';
import { RedisStore } from '../../../src/platform/store/redis-store.js';
import { createTestApp, type TestApp } from '../../support/app.js';
import { freePort } from '../../support/processes.js';

describe('a backing service out of reach', () => {
  let app: FastifyInstance;
  let store: RedisStore;

  beforeAll(async () => {
    // Nothing listens on the port: the store behaves as during a Redis outage.
    store = new RedisStore({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'test:', commandTimeoutMs: 1_000 });
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [{ name: 'store', check: () => store.ping() }],
      plugins: [
        async (scope) => {
          scope.post('/claim', async () => ({ claimed: await store.setIfAbsent('lock', 'me', 1_000) }));
        },
      ],
      docs: false,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('fails readiness', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { store: 'down' } });
  });

  it('answers 503 at once, without naming the service or its address', async () => {
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/claim' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ message: 'Service unavailable.' });
  });
});

describe('a database out of reach', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens on the port: PostgreSQL is down (or was never there) while the API runs.
    t = await createTestApp({ env: { DATABASE_URL: `postgres://intake@127.0.0.1:${await freePort()}/intake`, MIGRATE_ON_START: 'false' } });
  });
  afterAll(() => t.close());

  it('fails readiness, naming the database', async () => {
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', checks: { database: 'down' } });
  });

  it('answers 503 to a request that needs it, never 500', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/pornstars' });
    expect(res.statusCode).toBe(503);
    const login = await t.inject({ method: 'POST', url: '/api/login', payload: { email: 'a@example.test', password: 'secret-secret' } });
    expect(login.statusCode).toBe(503);
  });
});
