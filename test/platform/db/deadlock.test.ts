import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { createTempDatabase, SERVICE_OF, type TempDatabase } from '../../support/driver-databases.js';
import { deferred } from '../../support/driver-wait.js';
import { describeWithServices } from '../../support/services.js';

for (const dialect of ['postgres', 'mysql'] as const) {
  await describeWithServices([SERVICE_OF[dialect]], `deadlocks on ${dialect}`, () => {
    let temp: TempDatabase | undefined;
    afterEach(async () => {
      await temp?.cleanup();
      temp = undefined;
    });

    it('runs again the transaction the engine aborted to break a deadlock, so that both commit', async () => {
      temp = await createTempDatabase('intake-deadlock', dialect);
      const { database } = temp;
      await database.db.insertInto('kv').values([{ key: 'a', value: '0', expires_at: null }, { key: 'b', value: '0', expires_at: null }]).execute();
      const locked = { a: deferred(), b: deferred() };
      let runs = 0;
      // Each takes one row, waits until the other holds the other row, then asks for it: a deadlock.
      const crossing = (first: 'a' | 'b', second: 'a' | 'b', value: string) =>
        database.transaction(async (trx) => {
          runs++;
          await sql`update kv set value = ${value} where ${sql.ref('key')} = ${first}`.execute(trx);
          locked[first].resolve();
          await locked[second].promise;
          await sql`update kv set value = ${value} where ${sql.ref('key')} = ${second}`.execute(trx);
        });

      await Promise.all([crossing('a', 'b', 'one'), crossing('b', 'a', 'two')]);
      expect(runs).toBe(3);
      const values = (await database.db.selectFrom('kv').select('value').orderBy('key').execute()).map((row) => row.value);
      expect(values[0]).toBe(values[1]);
    });
  });
}
