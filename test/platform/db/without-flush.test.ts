import { sql } from 'kysely';
import type { Executor } from '../../../src/platform/db/database.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';
import { describeWithServices } from '../../support/services.js';

const synchronous = async (db: Executor) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]!.synchronous;
const FULL = 2;
const NORMAL = 1;

describe('a non-durable SQLite transaction', () => {
  let handle: TempSqlite;
  beforeEach(async () => {
    handle = await createTempSqlite('intake-without-flush', 'FULL');
  });
  afterEach(() => handle.cleanup());

  it('commits with synchronous=NORMAL, then the connection is back to FULL', async () => {
    const inside = await handle.database.transaction((trx) => synchronous(trx), { durable: false });
    expect(inside).toBe(NORMAL);
    expect(await synchronous(handle.database.db)).toBe(FULL);
    expect(await handle.database.transaction((trx) => synchronous(trx))).toBe(FULL);
  });

  it('restores FULL after a transaction that failed', async () => {
    await expect(handle.database.transaction(async () => Promise.reject(new Error('boom')), { durable: false })).rejects.toThrow('boom');
    expect(await synchronous(handle.database.db)).toBe(FULL);
  });

  it('does not lend its relaxed commit to concurrent durable transactions', async () => {
    const seen = await Promise.all([
      handle.database.transaction((trx) => synchronous(trx)),
      handle.database.transaction((trx) => synchronous(trx), { durable: false }),
      handle.database.transaction((trx) => synchronous(trx)),
      handle.database.write((db) => synchronous(db)),
    ]);
    expect(seen).toEqual([FULL, NORMAL, FULL, FULL]);
  });

  it('lets a short non-durable write ride along with a concurrent durable commit', async () => {
    const seen = await Promise.all([handle.database.transaction((trx) => synchronous(trx)), handle.database.write((db) => synchronous(db), { durable: false })]);
    expect(seen).toEqual([FULL, FULL]);
  });

  it('commits concurrent non-durable transactions together without the flush when no durable one waits', async () => {
    const seen = await Promise.all([
      handle.database.transaction((trx) => synchronous(trx), { durable: false }),
      handle.database.write((db) => synchronous(db), { durable: false }),
    ]);
    expect(seen).toEqual([NORMAL, NORMAL]);
    expect(await synchronous(handle.database.db)).toBe(FULL);
  });
});

await describeWithServices(['postgres'], 'a non-durable PostgreSQL write', () => {
  let temp: TempDatabase;
  beforeEach(async () => {
    temp = await createTempDatabase('intake-async-commit', 'postgres');
  });
  afterEach(() => temp.cleanup());

  const synchronousCommit = async (db: Executor) => (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0]!.synchronous_commit;

  it('commits on a connection with synchronous_commit off; durable work keeps waiting for the disk', async () => {
    const { database } = temp;
    const seen = await Promise.all([
      database.write((db) => synchronousCommit(db), { durable: false }),
      database.transaction((trx) => synchronousCommit(trx), { durable: false }),
      database.write((db) => synchronousCommit(db)),
      database.transaction((trx) => synchronousCommit(trx)),
    ]);
    expect(seen).toEqual(['off', 'off', 'on', 'on']);
  });

  it('makes a non-durable commit visible to the other connections at once', async () => {
    const { database } = temp;
    await database.write((db) => db.insertInto('kv').values({ key: 'relaxed', value: 'v', expires_at: null }).execute(), { durable: false });
    expect(await database.db.selectFrom('kv').select('value').where('key', '=', 'relaxed').executeTakeFirst()).toEqual({ value: 'v' });
  });
});
