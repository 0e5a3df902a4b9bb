import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startRole, type RunningRole } from '../../src/app/roles.js';
import { createDatabase } from '../../src/platform/db/database.js';
import { testConfig } from '../support/app.js';
import { testDialect } from '../support/driver-databases.js';
import { sleep, waitFor } from '../support/driver-wait.js';
import { captureLogs } from '../support/log-capture.js';

const QUEUE = 'orders.integration';

describe(`a worker process (${testDialect()})`, () => {
  let role: RunningRole | undefined;
  afterEach(async () => {
    await role?.stop();
    if (role) fs.rmSync(role.container.config.dataDir, { recursive: true, force: true });
    role = undefined;
  });

  it('beats while it runs, with every queue it works, follows a pause, and is gone from the list once stopped', async () => {
    const config = await testConfig({ ROLE: 'worker', METRICS_PORT: '0', FEED_INGEST_ON_START: 'false', THIRD_PARTY_URL: 'http://127.0.0.1:9/unused', WORKER_HEARTBEAT_MS: '100', QUEUE_PAUSE_POLL_MS: '50', WORKER_CONCURRENCY: '3' });
    const logs = captureLogs();
    role = await startRole(config, { logger: pino({ level: 'info' }, logs.destination) });
    const logged = (message: string) => logs.records().some((record) => record.msg === message);
    const { queuePauses, workerProcesses, queue } = role.container;
    const listed = async () => (await workerProcesses.list({ page: 1, perPage: 10 })).processes;
    const [self] = await listed();
    expect(self).toMatchObject({ role: 'worker', alive: true, runningCount: 0 });
    expect(self!.queues).toEqual(expect.arrayContaining([{ queue: QUEUE, concurrency: 3 }, { queue: 'feed.ingest', concurrency: 1 }]));
    expect(self!.queues.map((q) => q.queue).sort()).toEqual(['feed.ingest', 'images.download', QUEUE, 'webhooks.delivery']);

    await queuePauses.pause(QUEUE, 'cli');
    await waitFor(() => logged(`queue ${QUEUE} is paused: its workers claim no new job`), 2_000, 'the worker process to see the pause');
    await queue.enqueue(QUEUE, { itemId: 404 });
    await sleep(300);
    expect((await queue.stats(QUEUE)).counts).toMatchObject({ ready: 1, active: 0 });
    await queuePauses.resume(QUEUE);
    await waitFor(async () => (await queue.stats(QUEUE)).counts.ready === 0, 2_000, 'the job to be taken after the resume');
    expect(logged(`queue ${QUEUE} is resumed: its workers claim jobs again`)).toBe(true);

    await role.stop();
    // The role closed its database: another connection looks.
    const database = createDatabase({ url: config.databaseUrl });
    try {
      expect(await database.db.selectFrom('worker_processes').selectAll().execute()).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
