import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../../src/platform/db/database.js';
import type { GroupCommitSettings } from '../../../src/platform/db/group-commit.js';
import { migrateToLatest } from '../../../src/platform/db/migrate.js';
import { createEmptyDatabase, SERVICE_OF } from '../../support/driver-databases.js';
import { deferred } from '../../support/driver-wait.js';
import { describeWithServices } from '../../support/services.js';

for (const dialect of ['postgres', 'mysql'] as const) {
  await describeWithServices([SERVICE_OF[dialect]], `deadlocks on ${dialect}`, () => {
    let database: Database | undefined;
    afterEach(async () => {
      await database?.close();
      database = undefined;
    });

    async function open(groupCommit: GroupCommitSettings): Promise<Database> {
      const empty = await createEmptyDatabase(dialect);
      database = createDatabase({ url: empty.url, poolMax: 4, groupCommit });
      await migrateToLatest(database);
      await database.db.insertInto('kv').values([{ key: 'a', value: '0', expires_at: null }, { key: 'b', value: '0', expires_at: null }]).execute();
      return database;
    }

    /** Two transactions that each take one row, wait until the other holds the other row, then ask for it: a deadlock. */
    function crossing(db: Database) {
      const locked = { a: deferred(), b: deferred() };
      let runs = 0;
      const run = (first: 'a' | 'b', second: 'a' | 'b', value: string) =>
        db.transaction(async (trx) => {
          runs++;
          await sql`update kv set value = ${value} where ${sql.ref('key')} = ${first}`.execute(trx);
          locked[first].resolve();
          await locked[second].promise;
          await sql`update kv set value = ${value} where ${sql.ref('key')} = ${second}`.execute(trx);
        });
      return { run, runs: () => runs };
    }

    const values = async (db: Database) => (await db.db.selectFrom('kv').select('value').orderBy('key').execute()).map((row) => row.value);

    it('runs again the transaction the engine aborted to break a deadlock, so that both commit', async () => {
      const db = await open({ maxBatch: 1 });
      const cross = crossing(db);
      await Promise.all([cross.run('a', 'b', 'one'), cross.run('b', 'a', 'two')]);
      expect(cross.runs()).toBe(3);
      const [a, b] = await values(db);
      expect(a).toBe(b);
    });

    it('runs again a write the engine aborted to break a deadlock', async () => {
      const db = await open({ maxBatch: 1 });
      const locked = { a: deferred(), b: deferred() };
      let runs = 0;
      // A write that is a transaction of its own (as a claim on MySQL is) crossing another.
      const crossingWrite = (first: 'a' | 'b', second: 'a' | 'b', value: string) =>
        db.write((pool) =>
          pool.transaction().execute(async (trx) => {
            runs++;
            await sql`update kv set value = ${value} where ${sql.ref('key')} = ${first}`.execute(trx);
            locked[first].resolve();
            await locked[second].promise;
            await sql`update kv set value = ${value} where ${sql.ref('key')} = ${second}`.execute(trx);
          }),
        );
      await Promise.all([crossingWrite('a', 'b', 'one'), crossingWrite('b', 'a', 'two')]);
      expect(runs).toBe(3);
      const [a, b] = await values(db);
      expect(a).toBe(b);
    });

    it('re-runs alone the units of a batch aborted by a deadlock, and they all commit', async () => {
      const db = await open({ maxBatch: 2, concurrency: 2 });
      const cross = crossing(db);
      const neighbour = (key: string) => db.transaction((trx) => trx.insertInto('kv').values({ key, value: key, expires_at: null }).execute());
      // Two batches, [one, n1] and [two, n2], on two connections.
      await Promise.all([cross.run('a', 'b', 'one'), neighbour('n1'), cross.run('b', 'a', 'two'), neighbour('n2')]);
      // At least one re-run; on a loaded machine a batch's re-run may meet the other once more before it commits.
      expect(cross.runs()).toBeGreaterThanOrEqual(3);
      const [a, b, n1, n2] = await values(db);
      expect(a).toBe(b);
      expect([n1, n2]).toEqual(['n1', 'n2']);
    });
  });
}
