import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { DatabaseQueue } from '../src/platform/queue/database-queue.js';
import { pino } from 'pino';
import { assertBuilt, runCliProcess } from './support/processes.js';

// Each command is a fresh Node process that loads the whole app: allow for a busy machine.
describe('intake CLI', { timeout: 90_000 }, () => {
  let dataDir: string;
  const cli = (...args: string[]) => runCliProcess(args, { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

  beforeAll(() => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-cli-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('migrates, and a second migrate has nothing to do', async () => {
    const first = await cli('migrate');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('applied');
    const second = await cli('migrate');
    expect(second.stdout).toContain('nothing to migrate');
  });

  it('creates a user, refuses the same email twice, and issues a token with abilities', async () => {
    const created = await cli('users:create', '--name', 'Op', '--email', 'op@example.com', '--password', 'secret123');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'Op', email: 'op@example.com' });

    const again = await cli('users:create', '--name', 'Op', '--email', 'op@example.com', '--password', 'secret123');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already been taken');

    const token = await cli('tokens:create', '--email', 'op@example.com', '--ability', 'admin', '--ability', 'catalog:write');
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^\d+\|[A-Za-z0-9]{40}$/);

    const unknown = await cli('tokens:create', '--email', 'nobody@example.com');
    expect(unknown.code).toBe(1);
  });

  it('lists, retries and purges parked jobs', async () => {
    const database = createDatabase({ url: `sqlite:${path.join(dataDir, 'intake.db')}`, groupCommit: false });
    await migrateToLatest(database);
    const queue = new DatabaseQueue({ database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 1, defaultBackoff: { baseMs: 10, maxMs: 10 }, leaseMs: 60_000 });
    for (const itemId of [1, 2, 3]) await queue.enqueue('orders.integration', { itemId }, { priority: 4 });
    const worker = queue.work('orders.integration', async () => Promise.reject(new Error('third party down')), { concurrency: 3 });
    for (let i = 0; i < 100 && (await queue.stats('orders.integration')).counts.parked < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    await database.close();

    const stats = await cli('jobs:stats');
    expect(stats.stdout).toContain('parked=3');
    const parked = await cli('jobs:parked');
    expect(parked.stdout).toContain('third party down');
    const ids = [...parked.stdout.matchAll(/│\s+\d+\s+│\s+'?(\d+)'?\s+│/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(3);

    const retried = await cli('jobs:retry', ids[0]!);
    expect(retried.stdout).toContain('re-queued 1 job(s)');
    const all = await cli('jobs:retry', '--all');
    expect(all.stdout).toContain('re-queued 2 job(s)');
    expect((await cli('jobs:stats')).stdout).toContain('ready=3');
    expect((await cli('jobs:retry')).code).not.toBe(0);
    expect((await cli('jobs:purge')).stdout).toContain('purged 0 job(s)');
  });

  it('names every bad variable and exits non-zero', async () => {
    const result = await runCliProcess(['jobs:stats'], { DATA_DIR: dataDir, PORT: 'eighty', JOB_MAX_ATTEMPTS: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('JOB_MAX_ATTEMPTS');
  });
});
