import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApiApp, buildSimulatorApp } from '../../src/app/api-app.js';
import { insertUser } from '../../src/auth/users.repository.js';
import { loadConfig, sqlitePath, type Config } from '../../src/config.js';
import { createContainer, type Container, type ContainerOverrides } from '../../src/app/container.js';
import type { Random } from '../../src/platform/clock.js';
import type { SimulatorState } from '../../src/orders/simulator.state.js';
import { manualClock, type ManualClock } from './driver-clock.js';
import { createEmptyDatabase, createMigratedDatabase, testDialect } from './driver-databases.js';
import { copyMigratedSqlite } from './driver-sqlite.js';

export interface TestUser {
  id: number;
  email: string;
  token: string;
  /** `{ authorization: 'Bearer …' }`, to spread into inject headers. */
  auth: Record<string, string>;
}

export interface TestApp {
  app: FastifyInstance;
  /** The simulator's own app, when `simulator` was given (it never shares the API's app). */
  simulator?: FastifyInstance;
  container: Container;
  config: Config;
  clock: ManualClock;
  /** A user with an `orders` token, inserted directly (no argon2), so that tests stay fast. */
  user(name?: string): Promise<TestUser>;
  /** `POST /api/orders` as `user`, with extra headers. */
  postOrder(user: TestUser, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Closes the app and the container (tolerating a database a test already closed) and deletes DATA_DIR. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment variables for loadConfig. */
  env?: Record<string, string>;
  random?: Random;
  /** Where the app logs (silent by default). */
  logger?: Logger;
  /** Build the simulator's app beside the API's, with this state. */
  simulator?: (container: Container) => SimulatorState;
  /** DNS resolution for the webhook endpoint URL policy (answers any address without the network). */
  resolve?: ContainerOverrides['resolve'];
}

let userSeq = 0;

/**
 * Loads a config on a fresh temp DATA_DIR, as production would from its environment. Its database
 * (unless `env` names one) is new and has every migration applied already, a copy of a template
 * migrated once per test worker (test/support/driver-databases.ts), so that the app's migration on
 * start has nothing left to do; `schema: 'empty'` leaves it empty, for the suites of the
 * migrations. On a PostgreSQL or MySQL run (TEST_DIALECT) it is a database of its own, dropped
 * after the file; on SQLite, DATA_DIR/intake.db.
 */
export async function testConfig(env: Record<string, string> = {}, options: { schema?: 'migrated' | 'empty' } = {}): Promise<Config> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-test-'));
  const dialect = testDialect();
  const migrated = options.schema !== 'empty';
  let databaseUrl: Record<string, string> = {};
  if (dialect !== 'sqlite' && env.DATABASE_URL === undefined) {
    const created = migrated ? await createMigratedDatabase(dialect) : await createEmptyDatabase(dialect);
    databaseUrl = { DATABASE_URL: created.url, DATABASE_POOL_MAX: '4' };
  }
  const config = loadConfig({
    DATA_DIR: dataDir,
    ...databaseUrl,
    LOG_LEVEL: 'silent',
    SQLITE_SYNCHRONOUS: 'OFF',
    ROLE: 'api',
    SIMULATOR_ENABLED: 'false',
    ...env,
  });
  const sqliteFile = dialect === 'sqlite' && env.DATABASE_URL === undefined && migrated ? sqlitePath(config.databaseUrl) : undefined;
  if (sqliteFile !== undefined && !fs.existsSync(sqliteFile)) await copyMigratedSqlite(sqliteFile);
  return config;
}

/** The API app (auth + orders) on a migrated temp database (the run's dialect) with a manual clock. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = await testConfig(options.env);
  const clock = manualClock();
  const container = await createContainer(config, { logger: options.logger ?? pino({ level: 'silent' }), clock, ...(options.random && { random: options.random }), ...(options.resolve && { resolve: options.resolve }) });
  const app = await buildApiApp(container);
  await app.ready();
  const simulator = options.simulator && (await buildSimulatorApp(container, options.simulator(container)));
  await simulator?.ready();

  const inject = (opts: InjectOptions) => app.inject(opts);
  return {
    app,
    simulator,
    container,
    config,
    clock,
    inject,
    async user(name = 'user') {
      const n = ++userSeq;
      const email = `${name}-${n}@example.test`;
      const row = await insertUser(container.database.db, { name, email, password_hash: 'not-a-real-hash', created_at: clock.now(), updated_at: clock.now() });
      const token = await container.auth.createToken(row.id, 'test', ['orders']);
      return { id: row.id, email, token, auth: { authorization: `Bearer ${token}` } };
    },
    postOrder(user, body, headers = {}) {
      return inject({ method: 'POST', url: '/api/orders', headers: { ...user.auth, ...headers }, payload: body as InjectOptions['payload'] });
    },
    async close() {
      await simulator?.close();
      await app.close();
      await container.close().catch(() => undefined);
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid order body; `overrides` replace top-level fields. */
export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client: { identity: 'ACME Corp', contact_point: 'ops@acme.test' },
    contents: [{ label: 'Widget', kind: 'single', cost: 12.5 }],
    ...overrides,
  };
}

/** A valid order body with the given items. */
export function orderWith(...contents: unknown[]): Record<string, unknown> {
  return orderBody({ contents });
}

export function item(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { label: 'Widget', kind: 'single', cost: 12.5, ...overrides };
}

/** The parsed JSON body of a response. */
export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return response.json<T>();
}
