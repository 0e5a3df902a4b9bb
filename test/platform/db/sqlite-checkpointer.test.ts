import fs from 'node:fs';
import os from 'node:os';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCheckpointer } from '../../../src/platform/db/sqlite-checkpointer.js';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';
import { waitFor } from '../../support/driver-wait.js';

const handles: TempSqlite[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.cleanup();
});

async function writeRows(handle: TempSqlite, rows: number): Promise<void> {
  const value = 'x'.repeat(1_000);
  for (let start = 0; start < rows; start += 100) {
    await handle.database.transaction((trx) =>
      trx
        .insertInto('kv')
        .values(Array.from({ length: 100 }, (_, i) => ({ key: `row-${start + i}`, value, expires_at: null })))
        .execute(),
    );
  }
}

describe('SQLite checkpoints from a thread of their own (SQLITE_CHECKPOINT=background)', () => {
  it('copies the log into the database file while the connection itself only checkpoints past its backstop', async () => {
    const handle = await createTempSqlite('intake-checkpointer', 'FULL', { checkpoint: 'background' });
    handles.push(handle);
    const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(handle.database.db);
    expect(autocheckpoint.rows[0]!.wal_autocheckpoint).toBe(25_000);
    const before = fs.statSync(handle.file).size;
    // About 500 pages of log: far below the backstop, so only the thread can move them into the file.
    await writeRows(handle, 2_000);
    await waitFor(() => fs.statSync(handle.file).size > before + 1_000_000, 5_000, 'the checkpoint thread to copy the log into the database file');
    const rows = await handle.database.db.selectFrom('kv').select((eb) => eb.fn.countAll<number>().as('n')).where('key', 'like', 'row-%').executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(2_000);
  });

  it('stops its thread when the database closes, and the closed file opens with every row', async () => {
    const handle = await createTempSqlite('intake-checkpointer-close', 'FULL', { checkpoint: 'background' });
    handles.push(handle);
    await writeRows(handle, 300);
    await handle.database.close();
    const { default: SqliteDatabase } = await import('better-sqlite3');
    const reopened = new SqliteDatabase(handle.file, { readonly: true });
    try {
      expect(reopened.prepare("select count(*) as n from kv where key like 'row-%'").get()).toEqual({ n: 300 });
    } finally {
      reopened.close();
    }
  });

  it('leaves checkpoints to SQLite inside the COMMIT by default', async () => {
    const handle = await createTempSqlite('intake-checkpoint-inline', 'FULL');
    handles.push(handle);
    const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(handle.database.db);
    expect(autocheckpoint.rows[0]!.wal_autocheckpoint).toBe(1_000);
  });
});

describe('SqliteCheckpointer, when its thread cannot open the database', () => {
  it('reports the error and still stops cleanly', async () => {
    const errors: Error[] = [];
    const checkpointer = new SqliteCheckpointer({ file: os.tmpdir(), intervalMs: 10 }, (error) => errors.push(error));
    await waitFor(() => errors.length > 0, 5_000, 'the thread to report its error');
    expect(errors[0]!.message).toMatch(/^SQLite checkpoint thread: ./);
    expect(errors[0]).toMatchObject({ code: 'SQLITE_CANTOPEN' });
    await checkpointer.stop();
  });
});
