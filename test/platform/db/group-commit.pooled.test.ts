import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, type Database, type Executor } from '../../../src/platform/db/database.js';
import type { GroupCommitSettings } from '../../../src/platform/db/group-commit.js';
import { migrateToLatest } from '../../../src/platform/db/migrate.js';
import { createEmptyDatabase, SERVICE_OF } from '../../support/driver-databases.js';
import { deferred } from '../../support/driver-wait.js';
import { describeWithServices } from '../../support/services.js';

for (const dialect of ['postgres', 'mysql'] as const) {
  await describeWithServices([SERVICE_OF[dialect]], `group commit on ${dialect}`, () => {
    let url: string;
    const opened: Database[] = [];

    beforeAll(async () => {
      url = (await createEmptyDatabase(dialect)).url;
      const setup = createDatabase({ url, poolMax: 2, groupCommit: false });
      await migrateToLatest(setup);
      await setup.close();
    });

    afterAll(async () => {
      for (const database of opened.splice(0)) await database.close();
    });

    function open(groupCommit: GroupCommitSettings = {}): Database {
      const database = createDatabase({ url, poolMax: 6, groupCommit });
      opened.push(database);
      return database;
    }

    const transactions = new WeakMap<Executor, string>();

    /**
     * A unit that inserts `key`, and the transaction it ran in: PostgreSQL's own id for it; on
     * MySQL (whose trx_id needs the PROCESS privilege) the Kysely transaction the unit was given.
     */
    async function insertKey(trx: Executor, key: string): Promise<string> {
      await trx.insertInto('kv').values({ key, value: key, expires_at: null }).execute();
      if (dialect === 'postgres') return String((await sql<{ id: string }>`select txid_current()::text as id`.execute(trx)).rows[0]!.id);
      if (!transactions.has(trx)) transactions.set(trx, `${key}'s`);
      return transactions.get(trx)!;
    }

    const committed = async (database: Database, prefix: string) =>
      (await database.db.selectFrom('kv').select('key').where('key', 'like', `${prefix}%`).orderBy('key').execute()).map((row) => row.key);

    it('commits N concurrent transactions in fewer than N server transactions', async () => {
      const database = open({ concurrency: 2 });
      const keys = Array.from({ length: 40 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
      const transactionIds = await Promise.all(keys.map((key) => database.transaction((trx) => insertKey(trx, key))));
      const transactions = new Set(transactionIds).size;
      expect(transactions).toBeLessThanOrEqual(keys.length / 4);
      expect(await committed(database, 'many-')).toEqual(keys);
    });

    it('rejects a failing unit alone while its neighbours in the batch commit', async () => {
      const database = open({ concurrency: 1 });
      await database.transaction((trx) => insertKey(trx, 'fail-taken'));
      const names = ['fail-a', 'fail-bad', 'fail-b', 'fail-taken', 'fail-c'];
      const outcomes = await Promise.allSettled(
        names.map((key) =>
          database.transaction(async (trx) => {
            await insertKey(trx, key);
            if (key === 'fail-bad') throw new Error('unit failed after its write');
            return key;
          }),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('unit failed after its write'));
      expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: dialect === 'postgres' ? '23505' : 'ER_DUP_ENTRY' });
      expect(await committed(database, 'fail-')).toEqual(['fail-a', 'fail-b', 'fail-c', 'fail-taken']);
    });

    it('settles each caller only once its writes are visible to other connections', async () => {
      const database = open();
      const seen = await Promise.all(
        ['seen-a', 'seen-b', 'seen-c'].map((key) => database.transaction((trx) => insertKey(trx, key)).then(() => committed(database, 'seen-'))),
      );
      for (const keys of seen) expect(keys).toEqual(['seen-a', 'seen-b', 'seen-c']);
    });

    it('writes at most `concurrency` batches at once, each on its own connection', async () => {
      const database = open({ maxBatch: 1, concurrency: 3 });
      let running = 0;
      let most = 0;
      const release = deferred();
      const units = Array.from({ length: 8 }, (_, i) =>
        database.transaction(async (trx) => {
          most = Math.max(most, ++running);
          await insertKey(trx, `bound-${i}`);
          if (running === 3) release.resolve();
          await release.promise;
          running--;
        }),
      );
      await Promise.all(units);
      expect(most).toBe(3);
      expect(await committed(database, 'bound-')).toHaveLength(8);
    });

    it('gathers units that arrive within the linger into one batch', async () => {
      const database = open({ lingerMs: 50, concurrency: 1 });
      const units: Array<Promise<string>> = [];
      for (let i = 0; i < 4; i++) {
        units.push(database.transaction((trx) => insertKey(trx, `linger-${i}`)));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(new Set(await Promise.all(units)).size).toBe(1);
    });

    it('commits durable: false units together too', async () => {
      const database = open({ concurrency: 1 });
      const ids = await Promise.all(['relaxed-a', 'relaxed-b', 'relaxed-c'].map((key) => database.transaction((trx) => insertKey(trx, key), { durable: false })));
      expect(new Set(ids).size).toBe(1);
      expect(await committed(database, 'relaxed-')).toEqual(['relaxed-a', 'relaxed-b', 'relaxed-c']);
    });
  });
}
