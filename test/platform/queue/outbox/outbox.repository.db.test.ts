import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../../src/platform/db/database.js';
import {
  claimOutboxRows,
  deleteOutboxRows,
  insertOutboxRows,
  releaseOutboxRows,
  type NewOutbox,
} from '../../../../src/platform/queue/outbox/outbox.repository.js';
import { createTempDatabase, type TempDatabase } from '../../../support/driver-databases.js';

const NOW = 1_700_000_000_000;

function row(name: string, priority = 2): NewOutbox {
  return { queue: 'jobs', payload: JSON.stringify({ name }), headers: '{}', priority, max_attempts: null, dedupe_key: null, available_at: NOW, created_at: NOW };
}

const names = (rows: Array<{ payload: string }>) => rows.map((r) => (JSON.parse(r.payload) as { name: string }).name);

describe('outbox repository on SQLite', () => {
  let sqlite: TempDatabase | undefined;
  afterEach(async () => {
    await sqlite?.cleanup();
    sqlite = undefined;
  });

  async function seeded(rows: NewOutbox[]): Promise<Database> {
    sqlite = await createTempDatabase('intake-outbox-repo');
    const { database } = sqlite;
    await database.transaction(async (trx) => {
      for (const r of rows) await insertOutboxRows(trx, [r]);
    });
    return database;
  }

  const claim = (database: Database, claimedBy: string, limit: number, now = NOW) =>
    claimOutboxRows(database.db, database.dialect, { limit, now, claimedUntil: now + 1_000, claimedBy });

  it('claims by priority then age, and never hands a row under a live lease to another relay', async () => {
    const database = await seeded([row('low-1', 1), row('high-1', 5), row('normal-1'), row('high-2', 5), row('low-2', 1)]);
    expect(names(await claim(database, 'relay-a', 3))).toEqual(['high-1', 'high-2', 'normal-1']);
    expect(names(await claim(database, 'relay-b', 10))).toEqual(['low-1', 'low-2']);
    expect(await claim(database, 'relay-c', 10, NOW + 999)).toEqual([]);
    expect(names(await claim(database, 'relay-c', 10, NOW + 1_000))).toEqual(['high-1', 'high-2', 'normal-1', 'low-1', 'low-2']);
  });

  it('deletes and releases only the rows that the relay still holds', async () => {
    const database = await seeded([row('a'), row('b')]);
    const stale = await claim(database, 'relay-a', 10);
    const taken = await claim(database, 'relay-b', 10, NOW + 1_000);
    expect(names(taken)).toEqual(['a', 'b']);
    const ids = stale.map((r) => r.id);

    expect(await deleteOutboxRows(database.db, ids, 'relay-a')).toBe(0);
    await releaseOutboxRows(database.db, ids, 'relay-a', NOW, 'late failure');
    const held = await database.db.selectFrom('outbox').select(['claimed_by', 'attempts', 'last_error']).execute();
    expect(held).toEqual([
      { claimed_by: 'relay-b', attempts: 0, last_error: null },
      { claimed_by: 'relay-b', attempts: 0, last_error: null },
    ]);
    expect(await deleteOutboxRows(database.db, [ids[0]!], 'relay-b')).toBe(1);
  });

  it('holds a released row back until its retry time, with the failure counted', async () => {
    const database = await seeded([row('flaky')]);
    const [claimed] = await claim(database, 'relay-a', 1);
    await releaseOutboxRows(database.db, [claimed!.id], 'relay-a', NOW + 5_000, 'broker unreachable');
    expect(await claim(database, 'relay-b', 1, NOW + 4_999)).toEqual([]);
    const [retried] = await claim(database, 'relay-b', 1, NOW + 5_000);
    expect(retried).toMatchObject({ id: claimed!.id, attempts: 1, last_error: 'broker unreachable', claimed_by: 'relay-b' });
  });
});
