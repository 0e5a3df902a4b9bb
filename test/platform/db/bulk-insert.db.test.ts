import type { CompiledQuery, Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkInsert } from '../../../src/platform/db/bulk-insert.js';
import type { KvTable } from '../../../src/platform/store/kv.table.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

type Row = { key: string; value: string; expires_at: number | null };

describe('BulkInsert', () => {
  let handle: TempDatabase;
  const db = () => handle.database.db as Kysely<{ kv: KvTable }>;
  const stored = () => db().selectFrom('kv').select(['key', 'value', 'expires_at']).orderBy('key').execute();

  beforeEach(async () => {
    handle = await createTempDatabase('intake-db');
  });
  afterEach(() => handle.cleanup());

  const rows = (n: number, prefix = 'k'): Row[] =>
    Array.from({ length: n }, (_, i) => ({ key: `${prefix}${String(i).padStart(4, '0')}`, value: `v${i}`, expires_at: i % 3 === 0 ? null : i }));

  it.each([0, 1, 7, 8, 100, 300])('inserts %i rows with their values, in chunks of at most maxRows', async (n) => {
    const insert = new BulkInsert<Row>('kv', ['key', 'value', 'expires_at'], { maxRows: 64 });
    expect(await insert.insert(handle.database.db, rows(n))).toEqual([]);
    expect(await stored()).toEqual(rows(n));
  });

  it('returns the requested columns of every inserted row', async () => {
    const insert = new BulkInsert<Row, { key: string; value: string }>('kv', ['key', 'value', 'expires_at'], { returning: ['key', 'value'], reselectBy: ['key'], maxRows: 4 });
    const returned = await insert.insert(handle.database.db, rows(11));
    expect(returned.map((r) => r.key).sort()).toEqual(rows(11).map((r) => r.key));
    expect(returned.every((r) => r.value === `v${Number(r.key.slice(1))}`)).toBe(true);
  });

  it('compiles one statement per chunk size and reuses it: up to 32 rows exactly, powers of two beyond', async () => {
    const insert = new BulkInsert<Row>('kv', ['key', 'value', 'expires_at'], { maxRows: 64 });
    const texts = new Set<string>();
    const executor = handle.database.db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async (args) => args.result,
    });
    const spy = { executeQuery: executor.executeQuery.bind(executor) };
    executor.executeQuery = (async (query: CompiledQuery) => {
      texts.add(query.sql);
      return spy.executeQuery(query);
    }) as typeof executor.executeQuery;
    // 64+32+4, then 64+6, then 6 again: sizes 64, 32, 4 and 6 only.
    await insert.insert(executor, rows(100, 'a'));
    await insert.insert(executor, rows(70, 'b'));
    await insert.insert(executor, rows(6, 'c'));
    expect(texts.size).toBe(4);
    expect(await stored()).toHaveLength(176);
  });

  it('skips rows that conflict, returning only the inserted ones (and refuses on MySQL, which has no ON CONFLICT)', async () => {
    const insert = new BulkInsert<Row, { key: string }>('kv', ['key', 'value', 'expires_at'], { returning: ['key'], skipConflictsOn: ['key'], maxRows: 4 });
    if (handle.database.dialect === 'mysql') {
      await expect(insert.insert(handle.database.db, rows(3))).rejects.toThrow(/skipConflictsOn needs ON CONFLICT/);
      return;
    }
    await insert.insert(handle.database.db, rows(3));
    const returned = await insert.insert(handle.database.db, [...rows(5), { key: 'new', value: 'n', expires_at: null }]);
    expect(returned.map((r) => r.key).sort()).toEqual(['k0003', 'k0004', 'new']);
    expect(await stored()).toHaveLength(6);
  });

  it('rolls back with the transaction it runs in', async () => {
    const insert = new BulkInsert<Row>('kv', ['key', 'value', 'expires_at']);
    await expect(
      handle.database.transaction(async (trx) => {
        await insert.insert(trx, rows(5));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await stored()).toEqual([]);
  });

  it('refuses a maxRows that is not a power of two', () => {
    expect(() => new BulkInsert<Row>('kv', ['key'], { maxRows: 100 })).toThrow(/power of two/);
  });
});
