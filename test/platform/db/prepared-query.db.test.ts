import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import { param, prepareQuery } from '../../../src/platform/db/prepared-query.js';
import type { KvTable } from '../../../src/platform/store/kv.table.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

type Db = Kysely<{ kv: KvTable }>;

describe('prepareQuery', () => {
  let handle: TempDatabase;
  let database: Database;

  beforeEach(async () => {
    handle = await createTempDatabase('intake-db');
    database = handle.database;
  });
  afterEach(() => handle.cleanup());

  const insert = prepareQuery<{ key: string; value: string }, never>((db) =>
    (db as Db).insertInto('kv').values({ key: param('key'), value: param('value'), expires_at: 42 }),
  );
  const byKey = prepareQuery<{ key: string }, { key: string; value: string; expires_at: number | null }>((db) =>
    (db as Db).selectFrom('kv').selectAll().where('key', '=', param<string>('key')).where('expires_at', '=', 42),
  );

  it('runs the same compiled query with new parameters each time, keeping constants', async () => {
    await insert.execute(database.db, { key: 'a', value: '1' });
    await insert.execute(database.db, { key: 'b', value: '2' });
    expect(await byKey.first(database.db, { key: 'b' })).toEqual({ key: 'b', value: '2', expires_at: 42 });
    expect(await byKey.first(database.db, { key: 'a' })).toEqual({ key: 'a', value: '1', expires_at: 42 });
    expect(await byKey.first(database.db, { key: 'zzz' })).toBeUndefined();
  });

  it('runs inside a transaction, and its writes roll back with it', async () => {
    await expect(
      database.transaction(async (trx) => {
        await insert.execute(trx, { key: 'rolled', value: 'x' });
        expect(await byKey.rows(trx, { key: 'rolled' })).toHaveLength(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await byKey.first(database.db, { key: 'rolled' })).toBeUndefined();
  });
});
