import fs from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, onPostgres, testDialect } from '../support/driver-databases.js';
import { createTestApp, orderBody, type TestApp, type TestUser } from '../support/app.js';
import { serviceUrls } from '../support/services.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The database goes away while the API runs: every request that needs it answers 503 with
 * Retry-After (orders and auth in Laravel's `{message}`, the catalog in its envelope), never 500,
 * and /ready fails. The shared servers cannot be stopped for one test, so the test's own database
 * is dropped (PostgreSQL: with force; MySQL: dropped and its connections killed), or the TCP proxy
 * the app reaches it through is cut; on SQLite the file is overwritten or the handle closed.
 */
const dialect = testDialect();

const LARAVEL_503 = { message: 'Service unavailable.' };
const CATALOG_503 = { success: false, message: 'Service unavailable.', data: null, errors: null };

interface Route {
  name: string;
  /** Statuses the route answers while the database is up. */
  healthy: number[];
  unavailableBody: unknown;
  send(t: TestApp, user: TestUser): Promise<LightMyRequestResponse>;
}

const ROUTES: Route[] = [
  { name: 'GET /api/user', healthy: [200], unavailableBody: LARAVEL_503, send: (t, u) => t.inject({ method: 'GET', url: '/api/user', headers: u.auth }) },
  { name: 'GET /api/orders', healthy: [200], unavailableBody: LARAVEL_503, send: (t, u) => t.inject({ method: 'GET', url: '/api/orders', headers: u.auth }) },
  { name: 'POST /api/orders', healthy: [201], unavailableBody: LARAVEL_503, send: (t, u) => t.postOrder(u, orderBody({ client: { identity: `c-${Math.random()}`, contact_point: 'x@example.test' } })) },
  // The test user's hash is no argon2 hash: a wrong password costs no hashing, and answers 422.
  { name: 'POST /api/login', healthy: [422], unavailableBody: LARAVEL_503, send: (t, u) => t.inject({ method: 'POST', url: '/api/login', payload: { email: u.email, password: 'not-the-password' } }) },
  { name: 'GET /api/v1/pornstars', healthy: [200], unavailableBody: CATALOG_503, send: (t) => t.inject({ method: 'GET', url: '/api/v1/pornstars?q=a' }) },
];

function expectUnavailable(route: Route, res: LightMyRequestResponse): void {
  expect({ route: route.name, status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json() }).toEqual({
    route: route.name,
    status: 503,
    retryAfter: '5',
    body: route.unavailableBody,
  });
}

/** Drops the database; on MySQL then kills every connection still using it (they would go on with "table doesn't exist"). */
async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (dialect === 'postgres') return onPostgres(`drop database ${name} with (force)`);
  const admin = await mysql.createConnection({ uri: serviceUrls.mysql });
  try {
    await admin.query(`drop database ${name}`);
    const [rows] = await admin.query<mysql.RowDataPacket[]>('select id from information_schema.processlist where db = ?', [name]);
    for (const { id } of rows) await admin.query(`kill connection ${Number(id)}`).catch(() => undefined);
  } finally {
    await admin.end();
  }
}

/** Overwrites the SQLite database, its WAL and its shared-memory index with bytes that are no database. */
function corruptSqlite(t: TestApp): void {
  const file = t.config.databaseUrl.slice('sqlite:'.length);
  for (const suffix of ['', '-wal', '-shm']) fs.writeFileSync(file + suffix, Buffer.alloc(64 * 1024, 'not a database '));
}

describe(`a database that goes away (${dialect})`, () => {
  let t: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  beforeAll(() => void process.on('uncaughtException', onUncaught));
  afterAll(() => void process.off('uncaughtException', onUncaught));
  afterEach(async () => {
    await t?.close();
    await proxy?.close();
    t = undefined;
    proxy = undefined;
    expect(uncaught.splice(0)).toEqual([]);
  });

  // The catalog trusts the version it read for CATALOG_VERSION_RECHECK_MS and may answer from memory
  // meanwhile: 0 makes every read touch the database, so that the outage shows at once.
  const start = (env: Record<string, string> = {}) => createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '100000', CATALOG_VERSION_RECHECK_MS: '0', ...env } });

  async function expectReadyFails(app: TestApp): Promise<void> {
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { database: 'down' } });
  }

  it(dialect === 'sqlite' ? 'answers 503 with Retry-After on every route once the file is no database' : 'answers 503 with Retry-After on every route once its database is dropped', async () => {
    t = await start();
    const user = await t.user();
    for (const route of ROUTES) expect(route.healthy, route.name).toContain((await route.send(t, user)).statusCode);

    if (dialect === 'sqlite') corruptSqlite(t);
    else await dropDatabase(t.config.databaseUrl);

    for (const route of ROUTES) {
      // Twice: a connection that was cut, then a new one that cannot be made.
      expectUnavailable(route, await route.send(t, user));
      expectUnavailable(route, await route.send(t, user));
    }
    await expectReadyFails(t);
  });

  it('never answers 500 while the database goes away under load', async () => {
    if (dialect === 'mysql') {
      // PostgreSQL's drop with force is atomic; MySQL's drop and kill are not (a query between them
      // would meet a missing table), so there the connection is cut in the middle instead.
      const empty = await createEmptyDatabase('mysql');
      const through = new URL(empty.url);
      proxy = await startTcpProxy({ host: through.hostname, port: Number(through.port) || 3306 });
      through.port = String(proxy.port);
      t = await start({ DATABASE_URL: through.toString(), DATABASE_POOL_MAX: '4' });
    } else {
      t = await start();
    }
    const app = t;
    const user = await app.user();
    let gone = false;
    const after = new Map<string, LightMyRequestResponse[]>(ROUTES.map((r) => [r.name, []]));
    const before: Array<{ route: Route; res: LightMyRequestResponse }> = [];
    // Bounded in time before the outage, and in count and time after it.
    let deadline = Date.now() + 20_000;
    // Two clients per route, each until it has met the outage a few times.
    const client = async (route: Route) => {
      const seen = after.get(route.name)!;
      for (let sent = 0; sent < 300 && seen.length < 6 && Date.now() < deadline; ) {
        const wasGone = gone;
        const res = await route.send(app, user);
        if (wasGone) {
          seen.push(res);
          sent++;
        } else {
          before.push({ route, res });
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    };
    const clients = ROUTES.flatMap((route) => [client(route), client(route)]);
    while (before.length < ROUTES.length * 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));

    if (dialect === 'sqlite') await app.container.database.close();
    else if (dialect === 'postgres') await dropDatabase(app.config.databaseUrl);
    else await proxy!.cut();
    gone = true;
    deadline = Date.now() + 10_000;
    await Promise.all(clients);

    for (const { route, res } of before) {
      if (res.statusCode !== 503) expect(route.healthy, `${route.name} answered ${res.statusCode}: ${res.body}`).toContain(res.statusCode);
      else expectUnavailable(route, res);
    }
    for (const route of ROUTES) {
      const seen = after.get(route.name)!;
      expect(seen.length, route.name).toBeGreaterThan(0);
      for (const res of seen) expectUnavailable(route, res);
    }
    await expectReadyFails(app);
  });

  it.runIf(dialect === 'sqlite')('fails readiness once the database file is removed behind its back', async () => {
    t = await start();
    const file = t.config.databaseUrl.slice('sqlite:'.length);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    // The open handle still reads and writes the unlinked file, which a restart would not find:
    // only readiness can tell.
    await expectReadyFails(t);
  });
});
