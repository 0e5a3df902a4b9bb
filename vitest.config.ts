import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { isServiceUp, serviceUrls } from './test/support/services.js';

/**
 * The suites that touch the database: they run once per engine. Everything else (pure units, fuzz
 * tests of validation, SQLite-only behaviour) runs on SQLite alone.
 */
const DATABASE_SUITES = [
  'test/admin/*.api.test.ts',
  'test/auth/{auth,token-use}.api.test.ts',
  'test/auth/{auth.rate-limit,login-throttle}.test.ts',
  'test/orders/orders.{api,batching,duplicate-guard,idempotency,integration,parked,trace}.test.ts',
  'test/catalog/api/*.api.test.ts',
  'test/catalog/api/pornstars.query.test.ts',
  'test/catalog/catalog-pipeline.test.ts',
  'test/catalog/feed/feed-ingest.test.ts',
  'test/catalog/feed/feed-thumbnails.test.ts',
  'test/catalog/images/images.{download-once,faults,service}.test.ts',
  'test/catalog/feed/feed.scheduler.test.ts',
  'test/maintenance.test.ts',
  'test/platform/db/{bulk-insert,coalesce,prepared-query,write-batcher}.test.ts',
  'test/platform/db/migrations/007-thumbnail-source.test.ts',
  'test/platform/http/pagination-and-limits.test.ts',
  'test/platform/idempotency/idempotency.test.ts',
  'test/platform/queue/database-queue.test.ts',
  'test/platform/queue/outbox/outbox{-queue,-relay,.repository}.test.ts',
  'test/platform/store/database-store.test.ts',
  'test/faults/database-down.test.ts',
];

const BROKER_RESTART = 'test/e2e/broker-restart.e2e.test.ts';
/** The fault-injection suite (DESIGN.md §8): faults that must stay fixed, walked in a project of its own. */
const FAULTS = 'test/faults/**/*.test.ts';

const onEngine = (dialect: 'postgres' | 'mysql'): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name: dialect, include: DATABASE_SUITES, env: { TEST_DIALECT: dialect } },
});

/**
 * The engine's project, when its server answers. Without it, CI fails the engine's suites (they
 * run and cannot connect); elsewhere they are left out with a loud notice.
 */
async function onEngineIfUp(dialect: 'postgres' | 'mysql'): Promise<TestProjectInlineConfiguration[]> {
  if ((await isServiceUp(dialect)) || process.env.CI === 'true') return [onEngine(dialect)];
  process.stderr.write(`\n!!! SKIPPED the ${dialect} run of the database suites: ${serviceUrls[dialect]} not reachable. CI (CI=true) runs them; start ${dialect} to run them here.\n\n`);
  return [];
}

const engines = [...(await onEngineIfUp('postgres')), ...(await onEngineIfUp('mysql'))];

export default defineConfig({
  test: {
    setupFiles: ['test/support/fast-check-seed.ts', 'test/support/database-cleanup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [BROKER_RESTART, FAULTS] } },
      { extends: true, test: { name: 'faults', include: [FAULTS] } },
      ...engines,
      // Restarting RabbitMQ would cut every suite that uses it: this file runs alone, after all the others.
      { extends: true, test: { name: 'broker-restart', include: [BROKER_RESTART], sequence: { groupOrder: 1 } } },
    ],
  },
});
