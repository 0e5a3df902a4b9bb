import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../../../../src/platform/db/database.js';
import type { DatabaseWorker } from '../../../../src/platform/queue/database-worker.js';
import { OutboxQueue } from '../../../../src/platform/queue/outbox/outbox-queue.js';
import { manualClock } from '../../../support/driver-clock.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../../support/driver-databases.js';
import { deferred, sleep, waitFor } from '../../../support/driver-wait.js';
import { queueContract } from '../queue.contract.js';
import { commit, databaseQueue, fastRelay, RecordingQueue, ZERO_BY_PRIORITY } from './outbox-fixture.js';

queueContract(`outbox over the database driver on ${testDialect()}, with a running relay`, {
  async create(options = {}) {
    const sqlite = await createTempDatabase('intake-outbox');
    const inner = databaseQueue(sqlite.database, options);
    const queue = new OutboxQueue({ inner, database: sqlite.database });
    const relay = fastRelay(queue, sqlite.database);
    relay.start();
    return {
      queue,
      database: sqlite.database,
      crash: (worker) => (worker as DatabaseWorker).abandon(),
      cleanup: async () => {
        await relay.stop();
        await sqlite.cleanup();
      },
    };
  },
});

describe('outbox queue', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sqlite(): Promise<TempDatabase> {
    const created = await createTempDatabase('intake-outbox');
    cleanups.push(created.cleanup);
    return created;
  }

  it('leaves no outbox row and publishes nothing when the transaction rolls back', async () => {
    const { database } = await sqlite();
    const inner = new RecordingQueue();
    const queue = new OutboxQueue({ inner, database });
    const relay = fastRelay(queue, database);
    relay.start();
    cleanups.push(() => relay.stop());
    await expect(
      database.transaction(async (trx) => {
        await queue.enqueue('jobs', { name: 'rolled-back' }, {}, trx);
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    expect(await queue.pending()).toEqual({ count: 0, oldestCreatedAt: null });

    await commit(database, queue, ['committed-after']);
    await waitFor(() => inner.published.length > 0, 5_000, 'the committed job');
    await waitFor(async () => (await queue.pending()).count === 0, 2_000, 'its row to be deleted');
    expect(inner.names()).toEqual(['committed-after']);
  });

  it('enqueues without a transaction straight to the inner queue', async () => {
    const { database } = await sqlite();
    const inner = new RecordingQueue();
    const queue = new OutboxQueue({ inner, database });
    await queue.enqueue('jobs', { name: 'direct' }, { priority: 4 });
    expect(inner.published).toEqual([{ queue: 'jobs', payload: { name: 'direct' }, options: { priority: 4 } }]);
    expect((await queue.pending()).count).toBe(0);
  });

  it('counts jobs still in the outbox in stats, as ready or delayed by priority, besides the inner queue', async () => {
    const { database } = await sqlite();
    const inner = new RecordingQueue();
    const queue = new OutboxQueue({ inner, database });
    await queue.enqueue('jobs', { name: 'already-published' }, { priority: 1 });
    await commit(database, queue, ['a', 'b'], { priority: 4 });
    await commit(database, queue, ['later'], { priority: 3, delayMs: 60_000 });
    await commit(database, queue, ['elsewhere'], {}, 'other');
    expect(await queue.stats('jobs')).toEqual({
      queue: 'jobs',
      counts: { ready: 3, delayed: 1, active: 0, parked: 0 },
      byPriority: {
        ready: { ...ZERO_BY_PRIORITY, 1: 1, 4: 2 },
        delayed: { ...ZERO_BY_PRIORITY, 3: 1 },
        active: ZERO_BY_PRIORITY,
        parked: ZERO_BY_PRIORITY,
      },
      byPriorityExact: { ready: true, delayed: true, active: true, parked: true },
    });
  });

  it('counts a job once in stats while a relay of this process is moving it', async () => {
    const { database } = await sqlite();
    const inner = new RecordingQueue();
    const confirmed = deferred();
    // A broker that already holds the message while the relay waits for its confirm.
    inner.enqueue = async (queue, payload, options = {}) => {
      inner.published.push({ queue, payload, options });
      await confirmed.promise;
    };
    const queue = new OutboxQueue({ inner, database });
    const relay = fastRelay(queue, database);
    relay.start();
    cleanups.push(() => relay.stop());
    await commit(database, queue, ['moving']);
    await waitFor(() => inner.published.length === 1, 5_000, 'the publish to start');
    const stats = queue.stats('jobs');
    await sleep(30);
    confirmed.resolve();
    expect((await stats).counts.ready).toBe(1);
    expect(await queue.pending()).toEqual({ count: 0, oldestCreatedAt: null });
  });

  it('reports how many jobs wait in the outbox and since when', async () => {
    const { database } = await sqlite();
    const clock = manualClock();
    const queue = new OutboxQueue({ inner: new RecordingQueue(), database, clock });
    const first = clock.now();
    await commit(database, queue, ['a']);
    clock.advance(5_000);
    await commit(database, queue, ['b', 'c']);
    expect(await queue.pending()).toEqual({ count: 3, oldestCreatedAt: first });
  });

  it('loses nothing when the process dies between the commit and the publish', async () => {
    const { database, url } = await sqlite();
    const beforeCrash = new OutboxQueue({ inner: databaseQueue(database), database });
    await commit(database, beforeCrash, ['survivor'], { priority: 5, headers: { traceparent: '00-abc-def-01' } });
    expect((await beforeCrash.stats('jobs')).counts.ready).toBe(1);
    expect((await beforeCrash.inner.stats('jobs')).counts.ready).toBe(0);

    const restarted = createDatabase({ url });
    cleanups.push(() => restarted.close());
    const queue = new OutboxQueue({ inner: databaseQueue(restarted), database: restarted });
    const handled: Array<{ payload: unknown; traceparent: string | undefined }> = [];
    const worker = queue.work('jobs', async (payload, job) => void handled.push({ payload, traceparent: job.headers.traceparent }), { concurrency: 1 });
    cleanups.push(() => worker.stop(0));
    const relay = fastRelay(queue, restarted);
    relay.start();
    cleanups.push(() => relay.stop());
    await waitFor(() => handled.length === 1, 5_000, 'the job committed before the crash');
    expect(handled).toEqual([{ payload: { name: 'survivor' }, traceparent: '00-abc-def-01' }]);
    // The relay deletes the row after the publish, and the worker may handle the job in between.
    await waitFor(async () => (await queue.pending()).count === 0, 5_000, 'the relay to delete the published row');
    expect(handled).toHaveLength(1);
  });
});
