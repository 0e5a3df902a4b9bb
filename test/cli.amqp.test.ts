import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../src/app/container.js';
import { createAmqpFixture, deleteJobQueues, TEST_TIERS_MS, type AmqpFixture } from './platform/queue/amqp-fixture.js';
import { waitFor } from './support/driver-wait.js';
import { runCliInProcess } from './support/cli-in-process.js';
import { assertBuilt, runCliProcess } from './support/processes.js';
import { describeWithServices, serviceUrls } from './support/services.js';

const QUEUE = 'orders.integration';

await describeWithServices(['rabbitmq'], 'intake CLI on the amqp driver', () => {
  let dataDir: string;
  let fixture: AmqpFixture;
  const env = () => ({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    QUEUE_DRIVER: 'amqp',
    AMQP_URL: serviceUrls.rabbitmq,
    AMQP_QUEUE_PREFIX: fixture.prefix,
    AMQP_RETRY_TIERS_MS: TEST_TIERS_MS.join(','),
  });
  /** In this process (test/support/cli-in-process.ts); `spawned` is the real entry point, which must also end once its AMQP connection closes. */
  const cli = (...args: string[]) => runCliInProcess(args, env());
  const spawned = (...args: string[]) => runCliProcess(args, env(), 60_000);

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-cli-amqp-'));
    fixture = await createAmqpFixture({ defaultMaxAttempts: 1 });
  });
  afterAll(async () => {
    await fixture.cleanup();
    // The CLI declares the topology of every job queue, not only the one the fixture used.
    await deleteJobQueues(fixture.prefix, QUEUE_NAMES);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists, retries and purges parked jobs through AMQP operations', { timeout: 120_000 }, async () => {
    const { queue } = fixture;
    for (const itemId of [1, 2, 3]) await queue.enqueue(QUEUE, { itemId }, { priority: 4 });
    const worker = queue.work(QUEUE, async () => Promise.reject(new Error('third party down')), { concurrency: 3 });
    await waitFor(async () => (await queue.stats(QUEUE)).counts.parked === 3, 10_000, 'three parked jobs');
    await worker.stop();

    const stats = await spawned('jobs:stats');
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('parked=3');
    // RabbitMQ cannot count parked messages by priority over AMQP: the table says so instead of showing zeros.
    expect(stats.stdout).toMatch(/parked(\s+\?){5}\n/);
    const parked = await cli('jobs:parked', '--json');
    const jobs = JSON.parse(parked.stdout) as { id: string; priority: string; lastError: string }[];
    expect(jobs.map((job) => [job.priority, job.lastError])).toEqual(Array(3).fill(['critical', expect.stringContaining('third party down')]));
    const ids = jobs.map((job) => job.id);
    expect(new Set(ids).size).toBe(3);

    expect((await cli('jobs:retry', ids[0]!)).stdout).toContain('re-queued 1 job(s)');
    const missing = await cli('jobs:retry', ids[0]!);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: not found among the parked jobs of ${QUEUE}: ${ids[0]}\n`);
    expect((await cli('jobs:retry', '--all')).stdout).toContain('re-queued 2 job(s)');
    expect((await cli('jobs:stats')).stdout).toContain('ready=3');
    expect((await cli('jobs:purge')).stdout).toContain('purged 0 job(s)');
  });
});
