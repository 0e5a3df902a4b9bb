import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import { DatabaseQueue, type DatabaseQueueOptions } from '../../../src/platform/queue/database-queue.js';
import type { DatabaseWorker } from '../../../src/platform/queue/database-worker.js';
import { completeJobsWithin, JobCompletion } from '../../../src/platform/queue/job-completion.js';
import { RetryableError } from '../../../src/platform/queue/queue.js';
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

/** The jobs of queue `q` in any state. */
async function jobsIn(queue: DatabaseQueue): Promise<number> {
  return Object.values((await queue.stats('q')).counts).reduce((sum, n) => sum + n, 0);
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
  it('leaves a job its handler completed in its own transaction to that transaction: the worker writes no deletion', async () => {
    sqlite = await createTempDatabase('intake-queue');
    const real = sqlite.database;
    let workerWrites = 0;
    const counted: Database = { ...real, write: async (work, options) => (options?.durable !== false && (workerWrites += 1), real.write(work, options)) };
    queue = databaseQueue(sqlite, { database: counted });
    await queue.enqueueMany('q', Array.from({ length: 3 }, (_, i) => ({ payload: { n: i } })));
    const leftAfterCommit: number[] = [];
    queue.work(
      'q',
      async (_payload, job) => {
        await real.transaction((trx) => completeJobsWithin(trx, [job.completion!]));
        job.completion!.markCommitted();
        leftAfterCommit.push(await jobsIn(queue!));
      },
      { concurrency: 1 },
    );
    await waitFor(() => leftAfterCommit.length === 3, 5_000, 'every handler to complete its job');
    await sleep(100);
    expect(leftAfterCommit).toEqual([2, 1, 0]);
    expect(workerWrites).toBe(0);
  });

  it('keeps a job whose handler completed it in a transaction that rolled back: its retry runs', async () => {
    sqlite = await createTempDatabase('intake-queue');
    queue = databaseQueue(sqlite);
    await queue.enqueue('q', { name: 'rolled-back' });
    const attempts: number[] = [];
    queue.work(
      'q',
      async (_payload, job) => {
        attempts.push(job.attempt);
        if (job.attempt > 1) return;
        await sqlite!.database
          .transaction(async (trx) => {
            await completeJobsWithin(trx, [job.completion!]);
            throw new Error('a later statement of the transaction failed');
          })
          .catch(() => undefined);
        expect(job.completion!.isCommitted).toBe(false);
        throw new RetryableError('try again');
      },
      { concurrency: 1 },
    );
    await waitFor(async () => attempts.length === 2 && (await queue!.stats('q')).counts.active === 0, 5_000, 'the retry to run and finish');
    expect(attempts).toEqual([1, 2]);
    expect(await jobsIn(queue)).toBe(0);
  });

  it('deletes only the jobs their worker still holds', async () => {
    sqlite = await createTempDatabase('intake-queue');
    queue = databaseQueue(sqlite);
    const claimed = deferred<JobCompletion>();
    await queue.enqueue('q', { name: 'taken-over' });
    const hang = deferred();
    const worker = queue.work(
      'q',
      async (_payload, job) => {
        claimed.resolve(job.completion!);
        await hang.promise;
      },
      { concurrency: 1 },
    ) as DatabaseWorker;
    const held = await claimed.promise;
    try {
      await sqlite.database.transaction((trx) => completeJobsWithin(trx, [new JobCompletion(held.jobId, 'another worker')]));
      expect((await queue.stats('q')).counts.active).toBe(1);
      await sqlite.database.transaction((trx) => completeJobsWithin(trx, [held]));
      expect((await queue.stats('q')).counts.active).toBe(0);
    } finally {
      worker.abandon();
      hang.resolve();
    }
  });
});
