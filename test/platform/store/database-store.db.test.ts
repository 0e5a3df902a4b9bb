import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { manualClock } from '../../support/driver-clock.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';
import { storeContract } from './store.contract.js';

storeContract(`database driver on ${testDialect()}`, {
  async create() {
    const { database, cleanup } = await createTempDatabase('intake-store');
    const clock = manualClock();
    return {
      store: new DatabaseStore(database, clock),
      advance: async (ms) => clock.advance(ms),
      cleanup,
    };
  },
});

describe('DatabaseStore.sweepExpired', () => {
  let sqlite: TempDatabase | undefined;
  afterEach(async () => {
    await sqlite?.cleanup();
    sqlite = undefined;
  });

  it('deletes expired rows only and returns how many', async () => {
    sqlite = await createTempDatabase('intake-store');
    const clock = manualClock();
    const store = new DatabaseStore(sqlite.database, clock);
    await store.set('short', 'v', 100);
    await store.setIfAbsent('also-short', 'v', 200);
    await store.increment('long', 1_000);
    clock.advance(200);
    expect(await store.sweepExpired()).toBe(2);
    const rows = await sqlite.database.db.selectFrom('kv').select('key').execute();
    expect(rows.map((r) => r.key)).toEqual(['long']);
    expect(await store.sweepExpired()).toBe(0);
    expect((await store.increment('long', 1_000)).count).toBe(2);
  });
});
