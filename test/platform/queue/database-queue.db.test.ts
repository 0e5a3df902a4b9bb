import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import { DatabaseQueue, type DatabaseQueueOptions } from '../../../src/platform/queue/database-queue.js';
import type { DatabaseWorker } from '../../../src/platform/queue/database-worker.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';
import { deferred, sleep, waitFor } from '../../support/driver-wait.js';
import { queueContract } from './queue.contract.js';

function databaseQueue(sqlite: TempDatabase, options: Partial<DatabaseQueueOptions> = {}): DatabaseQueue {
  return new DatabaseQueue({
    database: sqlite.database,
    logger: pino({ level: 'silent' }),
    defaultMaxAttempts: 5,
    defaultBackoff: { baseMs: 20, maxMs: 1_000 },
    leaseMs: 30_000,
    random: () => 0.5,
    ...options,
  });
}

queueContract(`database driver on ${testDialect()}`, {
  async create(options = {}) {
    const sqlite = await createTempDatabase('intake-queue');
    const queue = databaseQueue(sqlite, {
      ...(options.maxAttempts !== undefined && { defaultMaxAttempts: options.maxAttempts }),
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    });
    return { queue, database: sqlite.database, crash: (worker) => (worker as DatabaseWorker).abandon(), cleanup: sqlite.cleanup };
  },
});

describe('database queue driver', () => {
  let sqlite: TempDatabase | undefined;
  let queue: DatabaseQueue | undefined;
  afterEach(async () => {
    await queue?.close();
    await sqlite?.cleanup();
    queue = undefined;
    sqlite = undefined;
  });

  it('parks the job of a worker that crashed during its last attempt', async () => {
    sqlite = await createTempDatabase('intake-queue');
    queue = databaseQueue(sqlite, { leaseMs: 300 });
    const claimed = deferred();
    const hang = deferred();
    await queue.enqueue('q', { name: 'last-try' }, { maxAttempts: 1 });
    const crashed = queue.work(
      'q',
      async () => {
        claimed.resolve();
        await hang.promise;
      },
      { concurrency: 1 },
    ) as DatabaseWorker;
    await claimed.promise;
    crashed.abandon();
    let reran = false;
    queue.work('q', async () => void (reran = true), { concurrency: 1 });
    try {
      await waitFor(async () => (await queue!.stats('q')).counts.parked === 1, 5_000, 'the job to be parked');
      const [parked] = await queue.parked('q');
      expect(parked).toMatchObject({ attempts: 1, maxAttempts: 1 });
      expect(parked!.lastError).toMatch(/lease expired/);
      expect(reran).toBe(false);
    } finally {
      hang.resolve();
    }
  });

  it('deletes the jobs that finish together in one write, each only after its handler returned', async () => {
    sqlite = await createTempDatabase('intake-queue');
    const real = sqlite.database;
    const commit = deferred();
    let durableWrites = 0;
    const held: Database = {
      ...real,
      write: async (work, options) => {
        if (options?.durable === false) return real.write(work, options);
        durableWrites += 1;
        await commit.promise;
        return real.write(work, options);
      },
    };
    queue = databaseQueue(sqlite, { database: held, completionBatch: { maxItems: 64, lingerMs: 200 } });
    await queue.enqueueMany('q', Array.from({ length: 6 }, (_, i) => ({ payload: { n: i } })));
    let returned = 0;
    queue.work('q', async () => void (returned += 1), { concurrency: 6 });
    await waitFor(() => returned === 6, 5_000, 'every handler to return');
    await sleep(300);
    expect((await queue.stats('q')).counts.active).toBe(6);
    commit.resolve();
    await waitFor(async () => (await queue!.stats('q')).counts.active === 0, 5_000, 'the jobs to be deleted');
    expect(durableWrites).toBe(1);
  });
});
