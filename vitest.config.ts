import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { isServiceUp, serviceUrls } from './test/support/services.js';

/**
 * The suites that touch the database are named `*.db.test.ts`: they run once per engine. Everything
 * else (pure units, fuzz tests of validation, SQLite-only behaviour) runs on SQLite alone.
 */
const DATABASE_SUITES = 'test/**/*.db.test.ts';

const BROKER_RESTART = 'test/e2e/broker-restart.e2e.test.ts';
/**
 * The suites that switch tracing on in the test process (test/support/trace-recorder.ts, or a tracer
 * provider of their own): the provider, `useTracing` and the instrumented modules are process-wide,
 * so they run isolated. Left behind, they put every later enqueue of the worker in a new trace.
 */
const TRACING = ['test/platform/telemetry/tracing*.test.ts', 'test/deploy/grafana-datasources.test.ts'];
/** The fault-injection suite (DESIGN.md §8): faults that must stay fixed, walked in a project of its own. */
const FAULTS = 'test/faults/**/*.test.ts';

const onEngine = (dialect: 'postgres' | 'mysql'): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name: dialect, include: [DATABASE_SUITES], exclude: TRACING, env: { TEST_DIALECT: dialect } },
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

/**
 * `npm run test:quick` (TEST_QUICK=true), the inner loop: SQLite only, without the suites that
 * start processes, drive a browser or need Redis or RabbitMQ (test/support/services.ts skips those).
 */
const QUICK = process.env.TEST_QUICK === 'true';
const SLOW_SUITES = ['test/e2e/**', 'test/dev/**', '**/*.browser.test.ts', '**/*.process.test.ts', 'test/cli*.test.ts', 'test/roles.test.ts', 'test/readme-flows.test.ts'];

/**
 * Test files at once. On the 2-core machines two took 607-627 s and three 548-625 s (2026-12-05),
 * but three loaded the machine enough that a MySQL outbox test saw a row published twice (most
 * likely a deadlocked delete, which `Database.write` now runs again): two.
 */
const TEST_WORKERS = Number(process.env.TEST_WORKERS ?? 2);
if (!Number.isInteger(TEST_WORKERS) || TEST_WORKERS < 1) throw new Error(`TEST_WORKERS must be a positive integer, got ${process.env.TEST_WORKERS}`);

const engines = QUICK ? [] : [...(await onEngineIfUp('postgres')), ...(await onEngineIfUp('mysql'))];

export default defineConfig({
  test: {
    setupFiles: ['test/support/fast-check-seed.ts', 'test/support/database-cleanup.ts'],
    // The migrated template databases that test workers copy instead of migrating each database (test/support/driver-databases.ts).
    globalSetup: ['test/support/database-templates.global.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: TEST_WORKERS,
    // A worker runs its test files one after another on one module graph: the app's modules are
    // imported once per worker, not once per file (a third of the suite's time). No suite mocks
    // modules or stubs globals; the few that leave process-wide state behind run isolated below.
    isolate: false,
    projects: QUICK
      ? [
          { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [BROKER_RESTART, FAULTS, ...TRACING, ...SLOW_SUITES] } },
          { extends: true, test: { name: 'tracing', include: TRACING, isolate: true } },
        ]
      : [
          { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [BROKER_RESTART, FAULTS, ...TRACING] } },
          { extends: true, test: { name: 'tracing', include: TRACING, isolate: true } },
          { extends: true, test: { name: 'faults', include: [FAULTS], isolate: true } },
          ...engines,
          // Restarting RabbitMQ would cut every suite that uses it: this file runs alone, after all the others.
          { extends: true, test: { name: 'broker-restart', include: [BROKER_RESTART], isolate: true, sequence: { groupOrder: 1 } } },
        ],
  },
});
