import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';

export interface TempSqlite {
  database: Database;
  file: string;
  /** Closes the database and deletes its files (the WAL and shared-memory files too). */
  cleanup(): Promise<void>;
}

/** A migrated SQLite database in a fresh temp file, one per test (synchronous=NORMAL unless told). */
export async function createTempSqlite(prefix = 'intake-driver', synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Promise<TempSqlite> {
  const file = path.join(os.tmpdir(), `${prefix}-${process.pid}-${randomUUID()}.db`);
  const database = createDatabase({ url: `sqlite:${file}`, sqlite: { synchronous } });
  await migrateToLatest(database);
  let closed = false;
  return {
    database,
    file,
    cleanup: async () => {
      if (closed) return;
      closed = true;
      await database.close();
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    },
  };
}
