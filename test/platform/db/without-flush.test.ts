import { sql } from 'kysely';
import type { Executor } from '../../../src/platform/db/database.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';

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
});
