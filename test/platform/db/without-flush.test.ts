import fs from 'node:fs';
import { sql } from 'kysely';
import { createDatabase, type Executor } from '../../../src/platform/db/database.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';
import { deferred } from '../../support/driver-wait.js';
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
  });

  it('restores FULL after a transaction that failed', async () => {
    await expect(handle.database.transaction(async () => Promise.reject(new Error('boom')), { durable: false })).rejects.toThrow('boom');
    expect(await synchronous(handle.database.db)).toBe(FULL);
  });

  it('lets no statement outside the batch run at NORMAL while the batch holds the connection', async () => {
    const inBatch = deferred();
    const release = deferred();
    const batch = handle.database.transaction(async (trx) => {
      inBatch.resolve();
      await release.promise;
      return synchronous(trx);
    });
    await inBatch.promise;
    const outside = synchronous(handle.database.db);
    release.resolve();
    expect(await batch).toBe(NORMAL);
    expect(await outside).toBe(FULL);
  });

  it('commits concurrent durable and non-durable units at NORMAL, the durable ones then waiting for the flush of the log', async () => {
    const seen = await Promise.all([
      handle.database.transaction((trx) => synchronous(trx)),
      handle.database.transaction((trx) => synchronous(trx), { durable: false }),
      handle.database.transaction((trx) => synchronous(trx)),
      handle.database.write((db) => synchronous(db)),
      handle.database.write((db) => synchronous(db), { durable: false }),
    ]);
    expect(seen).toEqual([NORMAL, NORMAL, NORMAL, NORMAL, NORMAL]);
    expect(await synchronous(handle.database.db)).toBe(FULL);
  });

  it('answers a durable transaction only after an fdatasync of the log that started after its commit; a non-durable one without any', async () => {
    const probe = await fs.promises.open(handle.file, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const original = fileHandle.datasync;
    const events: string[] = [];
    fileHandle.datasync = async function (this: unknown) {
      events.push('datasync started');
      await original.call(this);
      events.push('datasync done');
    };
    try {
      await handle.database.transaction(async (trx) => {
        await sql`insert into kv (key, value, expires_at) values ('durable', 'v', null)`.execute(trx);
        events.push('committing');
      });
      events.push('answered');
      expect(events).toEqual(['committing', 'datasync started', 'datasync done', 'answered']);
      events.length = 0;
      await handle.database.transaction((trx) => sql`insert into kv (key, value, expires_at) values ('relaxed', 'v', null)`.execute(trx), { durable: false });
      expect(events).toEqual([]);
    } finally {
      fileHandle.datasync = original;
    }
  });
});

describe('a SQLite database without a write-ahead log (:memory:)', () => {
  it('commits durable transactions inside the COMMIT, with no log file to flush', async () => {
    const database = createDatabase({ url: 'sqlite::memory:', sqlite: { synchronous: 'FULL', checkpoint: 'background' } });
    try {
      await sql`create table t (x integer)`.execute(database.db);
      const seen = await Promise.all([1, 2, 3].map((x) => database.transaction(async (trx) => {
        await sql`insert into t values (${x})`.execute(trx);
        return synchronous(trx);
      })));
      expect(seen).toEqual([FULL, FULL, FULL]);
      expect((await sql<{ n: number }>`select count(*) as n from t`.execute(database.db)).rows[0]!.n).toBe(3);
    } finally {
      await database.close();
    }
  });
});

describe('a durable SQLite transaction with SQLITE_LOG_FLUSH=commit', () => {
  let handle: TempSqlite;
  beforeEach(async () => {
    handle = await createTempSqlite('intake-commit-flush', 'FULL', { logFlush: 'commit' });
  });
  afterEach(() => handle.cleanup());

  it('waits for the fsync inside its COMMIT (synchronous=FULL), while non-durable ones keep skipping it', async () => {
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
