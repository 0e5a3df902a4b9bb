import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/platform/http/app.js';
import { AmqpQueue } from '../../../src/platform/queue/amqp/amqp-queue.js';
import { RedisStore } from '../../../src/platform/store/redis-store.js';
import { isUnavailable } from '../../../src/platform/unavailable.js';
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

  it('answers 503 at once with Retry-After, without naming the service or its address', async () => {
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/claim' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ message: 'Service unavailable.' });
  });
});

describe('a broker out of reach', () => {
  let app: FastifyInstance;
  let queue: AmqpQueue;

  beforeAll(async () => {
    // Nothing listens on the port: RabbitMQ is down while the operator API counts its queues.
    const url = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    queue = new AmqpQueue({ url, logger: pino({ level: 'silent' }), defaultMaxAttempts: 3, defaultBackoff: { baseMs: 10, maxMs: 100 }, operationTimeoutMs: 300, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [],
      plugins: [
        async (scope) => {
          scope.get('/depth', async () => (await queue.stats('orders')).counts);
        },
      ],
      docs: false,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await queue.close();
  });

  it('answers 503 with Retry-After once the broker does not answer in time', async () => {
    const res = await app.inject({ method: 'GET', url: '/depth' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ message: 'Service unavailable.' });
  });
});

describe('which errors mean a backing service is unavailable', () => {
  const error = (message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), fields);

  it.each([
    ['SQLite: a file that is no database', error('file is not a database', { code: 'SQLITE_NOTADB' })],
    ['SQLite: locked by another process past busy_timeout', error('database is locked', { code: 'SQLITE_BUSY' })],
    ['SQLite: an I/O error', error('disk I/O error', { code: 'SQLITE_IOERR_SHORT_READ' })],
    ['SQLite: cannot open', error('unable to open database file', { code: 'SQLITE_CANTOPEN' })],
    ['SQLite: a full disk', error('database or disk is full', { code: 'SQLITE_FULL' })],
    ['SQLite: a closed handle', new TypeError('The database connection is not open')],
    ['Kysely: a destroyed instance', error('driver has already been destroyed')],
    ['PostgreSQL: refused', error('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' })],
    ['PostgreSQL: administrator shutdown', error('terminating connection due to administrator command', { code: '57P01' })],
    ['PostgreSQL: connection failure', error('connection failure', { code: '08006' })],
    ['PostgreSQL: no such database', error('database "x" does not exist', { code: '3D000' })],
    ['PostgreSQL: too many connections', error('sorry, too many clients already', { code: '53300' })],
    ['PostgreSQL: a pool that cannot connect in time', error('timeout exceeded when trying to connect')],
    ['PostgreSQL: a client cut mid-transaction', error('Client has encountered a connection error and is not queryable')],
    ['MySQL: connection lost', error('Connection lost: The server closed the connection.', { code: 'PROTOCOL_CONNECTION_LOST' })],
    ['MySQL: no such database', error("Unknown database 'x'", { code: 'ER_BAD_DB_ERROR', errno: 1049 })],
    ['MariaDB: connection killed', error('Connection was killed', { code: 'UNKNOWN_CODE_PLEASE_REPORT', errno: 1927 })],
    ['MySQL: read-only after a failover', error('The MariaDB server is running with the --read-only option', { code: 'ER_OPTION_PREVENTS_STATEMENT' })],
    ['RabbitMQ: a channel closed under the call', error('Channel ended, no reply will be forthcoming')],
    ['RabbitMQ: connection forced closed', error('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure"', { code: 320 })],
    ['a driver error wrapped in another', new Error('migration failed', { cause: error('x', { code: '57P01' }) })],
  ])('%s', (_name, e) => {
    expect(isUnavailable(e)).toBe(true);
  });

  it.each([
    ['a unique violation', error('duplicate key', { code: '23505' })],
    ['a missing table', error("Table 'x.users' doesn't exist", { code: 'ER_NO_SUCH_TABLE' })],
    ['a SQL syntax error', error('syntax error', { code: 'SQLITE_ERROR' })],
    ['a statement timeout', error('canceling statement due to statement timeout', { code: '57014' })],
    ['a queue the broker refuses', error('Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue"', { code: 404 })],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('not %s', (_name, e) => {
    expect(isUnavailable(e)).toBe(false);
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
