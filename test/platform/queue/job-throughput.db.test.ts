import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JobThroughput } from '../../../src/platform/queue/job-throughput.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import type { Store } from '../../../src/platform/store/store.js';
import { manualClock } from '../../support/driver-clock.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

const MINUTE = 60_000;
const logger = pino({ level: 'silent' });

describe('JobThroughput', () => {
  let temp: TempDatabase | undefined;
  afterEach(async () => {
    await temp?.cleanup();
    temp = undefined;
  });

  async function setup() {
    temp = await createTempDatabase('intake-throughput');
    const clock = manualClock(10 * MINUTE);
    const store = new DatabaseStore(temp.database, clock);
    const make = (over: Partial<Store> = {}) => new JobThroughput({ store: { ...bind(store), ...over }, clock, logger, flushEveryMs: 60 * MINUTE });
    return { clock, store, make };
  }

  it('adds up what several processes counted, per queue, outcome and minute', async () => {
    const { clock, make } = await setup();
    const [workerA, workerB, reader] = [make(), make(), make()];
    for (let i = 0; i < 3; i++) workerA.record('orders', 'completed');
    workerB.record('orders', 'completed');
    workerB.record('orders', 'parked');
    workerB.record('images', 'retried');
    await Promise.all([workerA.flush(), workerB.flush()]);
    clock.advance(MINUTE);
    workerA.record('orders', 'failed');
    await workerA.stop();
    await workerB.stop();

    expect(await reader.recent('orders', 3)).toEqual([
      { minute: 9 * MINUTE, completed: 0, retried: 0, failed: 0, parked: 0 },
      { minute: 10 * MINUTE, completed: 4, retried: 0, failed: 0, parked: 1 },
      { minute: 11 * MINUTE, completed: 0, retried: 0, failed: 1, parked: 0 },
    ]);
    expect((await reader.recent('images', 2))[0]).toEqual({ minute: 10 * MINUTE, completed: 0, retried: 1, failed: 0, parked: 0 });
  });

  it('keeps counts the store refused and writes them with the next flush', async () => {
    const { store, make } = await setup();
    let down = true;
    const flaky = make({ increment: (key, ttlMs, by) => (down ? Promise.reject(new Error('store down')) : store.increment(key, ttlMs, by)) });
    flaky.record('orders', 'completed');
    flaky.record('orders', 'completed');
    await flaky.flush();
    flaky.record('orders', 'completed');
    down = false;
    await flaky.stop();
    expect((await make().recent('orders', 1))[0]!.completed).toBe(3);
  });
});

/** The store's methods bound to it, so that one of them can be swapped in a spread copy. */
function bind(store: Store): Store {
  return {
    setIfAbsent: store.setIfAbsent.bind(store),
    set: store.set.bind(store),
    get: store.get.bind(store),
    delete: store.delete.bind(store),
    deleteIfValue: store.deleteIfValue.bind(store),
    extendIfValue: store.extendIfValue.bind(store),
    increment: store.increment.bind(store),
    ping: store.ping.bind(store),
    close: store.close.bind(store),
  };
}
