import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import { QueueHistory } from '../../../src/platform/queue/queue-history.js';
import { manualClock } from '../../support/driver-clock.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

const MINUTE = 60_000;
const logger = pino({ level: 'silent' });
/** On a five-minute boundary, so that minutes 0–4 fall in one five-minute bucket. */
const START = 28_333_335 * MINUTE;

describe('QueueHistory', () => {
  let temp: TempDatabase | undefined;
  afterEach(async () => {
    await temp?.cleanup();
    temp = undefined;
  });

  async function setup() {
    temp = await createTempDatabase('intake-history');
    const clock = manualClock(START);
    const database = temp.database;
    const make = (over: Partial<Database> = {}) => new QueueHistory({ database: { ...database, ...over }, clock, logger, flushEveryMs: 60 * MINUTE });
    return { clock, database, make };
  }

  it('adds up what several processes counted, per queue, outcome and minute, with the waits of the attempts that started', async () => {
    const { clock, make } = await setup();
    const [workerA, workerB, reader] = [make(), make(), make()];
    for (const wait of [100, 300, 200]) workerA.finished('orders', 'completed', wait);
    workerB.finished('orders', 'completed', 1_000);
    workerB.finished('orders', 'retried', 0);
    workerB.finished('orders', 'parked');
    workerB.finished('images', 'failed', 50);
    await Promise.all([workerA.flush(), workerB.flush()]);
    clock.advance(MINUTE);
    workerA.finished('orders', 'completed', 40);
    await Promise.all([workerA.stop(), workerB.stop()]);

    const { buckets, bucketMs } = await reader.read('orders', '1h');
    expect(bucketMs).toBe(MINUTE);
    expect(buckets).toHaveLength(60);
    expect(buckets.at(-1)).toEqual({ start: START + MINUTE, completed: 1, retried: 0, failed: 0, parked: 0, started: 1, waitAvgMs: 40, waitMaxMs: 40 });
    // The parking that follows a final failure is no start.
    expect(buckets.at(-2)).toEqual({ start: START, completed: 4, retried: 1, failed: 0, parked: 1, started: 5, waitAvgMs: 320, waitMaxMs: 1_000 });
    expect(buckets.at(-3)).toEqual({ start: START - MINUTE, completed: 0, retried: 0, failed: 0, parked: 0, started: 0, waitAvgMs: null, waitMaxMs: null });
    expect((await reader.read('images', '1h')).buckets.at(-2)).toMatchObject({ failed: 1, started: 1, waitMaxMs: 50 });
    expect(await reader.recent('orders', 2)).toEqual([
      { minute: START, completed: 4, retried: 1, failed: 0, parked: 1 },
      { minute: START + MINUTE, completed: 1, retried: 0, failed: 0, parked: 0 },
    ]);
  });

  it('keeps five-minute buckets that sum their minutes, for ranges of days', async () => {
    const { clock, make } = await setup();
    const worker = make();
    for (let minute = 0; minute < 6; minute++) {
      worker.finished('orders', 'completed', minute * 10);
      await worker.flush();
      clock.advance(MINUTE);
    }
    const week = await worker.read('orders', '7d');
    expect(week.bucketMs).toBe(5 * MINUTE);
    expect(week.buckets).toHaveLength(7 * 24 * 12);
    expect(week.buckets.at(-2)).toEqual({ start: START, completed: 5, retried: 0, failed: 0, parked: 0, started: 5, waitAvgMs: 20, waitMaxMs: 40 });
    expect(week.buckets.at(-1)).toMatchObject({ start: START + 5 * MINUTE, completed: 1, waitMaxMs: 50 });
    expect((await worker.read('orders', '14d')).buckets).toHaveLength(14 * 24 * 12);
    expect((await worker.read('orders', '24h')).buckets).toHaveLength(24 * 60);
  });

  it('keeps counts the database refused and writes them with the next flush', async () => {
    const { database, make } = await setup();
    let down = true;
    const flaky = make({ write: (work, options) => (down ? Promise.reject(new Error('database down')) : database.write(work, options)) });
    flaky.finished('orders', 'completed', 10);
    flaky.finished('orders', 'completed', 30);
    await flaky.flush();
    flaky.finished('orders', 'completed', 20);
    down = false;
    await flaky.stop();
    expect((await make().read('orders', '1h')).buckets.at(-1)).toMatchObject({ completed: 3, started: 3, waitAvgMs: 20, waitMaxMs: 30 });
  });

  it('lets processes flush the same buckets at the same time without losing a count or deadlocking', async () => {
    const { make } = await setup();
    const workers = Array.from({ length: 4 }, () => make());
    const queues = ['a', 'b', 'c', 'd', 'e'];
    for (let round = 0; round < 5; round++) {
      workers.forEach((worker, w) => {
        // Each process meets the queues in another order.
        for (const queue of [...queues.slice(w), ...queues.slice(0, w)]) worker.finished(queue, 'completed', round);
      });
      await Promise.all(workers.map((worker) => worker.flush()));
    }
    for (const queue of queues) expect((await make().read(queue, '1h')).buckets.at(-1)).toMatchObject({ completed: 20, started: 20, waitMaxMs: 4 });
  });
});
