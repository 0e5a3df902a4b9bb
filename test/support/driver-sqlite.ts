import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDatabase, type Database, type DatabaseOptions } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { templatePrefix } from './templates.js';

export interface TempSqlite {
  database: Database;
  file: string;
  /** Closes the database and deletes its files (the WAL and shared-memory files too). */
  cleanup(): Promise<void>;
}

/** A migrated SQLite database in a fresh temp file, one per test (synchronous=NORMAL unless told). */
export async function createTempSqlite(
  prefix = 'intake-driver',
  synchronous: 'NORMAL' | 'FULL' = 'NORMAL',
  sqlite: Omit<NonNullable<DatabaseOptions['sqlite']>, 'synchronous'> = {},
): Promise<TempSqlite> {
  const file = path.join(os.tmpdir(), `${prefix}-${process.pid}-${randomUUID()}.db`);
  const copied = await copyMigratedSqlite(file);
  const database = createDatabase({ url: `sqlite:${file}`, sqlite: { ...sqlite, synchronous } });
  // Either way the database is opened here, as the migration opened it: a Database closed before its first query would open anew on the next one.
  await (copied ? database.ping() : migrateToLatest(database));
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

/** Kept on the global object: with isolation off the worker keeps it from one test file to the next (see database-cleanup.ts). */
const globalTemplate = globalThis as typeof globalThis & { intakeSqliteTemplate?: Promise<string | undefined> };

/**
 * Writes a migrated SQLite database to `file` (which must not exist yet): a copy of a template this
 * worker migrated once (every migration costs some 50-100 ms a database, and the suites make one per
 * test). Returns false, having written nothing, when the run provides no templates.
 */
export async function copyMigratedSqlite(file: string): Promise<boolean> {
  const template = await (globalTemplate.intakeSqliteTemplate ??= createSqliteTemplate().catch((error: unknown) => {
    globalTemplate.intakeSqliteTemplate = undefined;
    throw error;
  }));
  if (template === undefined) return false;
  fs.copyFileSync(template, file, fs.constants.COPYFILE_EXCL);
  return true;
}

async function createSqliteTemplate(): Promise<string | undefined> {
  const prefix = templatePrefix();
  if (prefix === undefined) return undefined;
  const file = path.join(os.tmpdir(), `${prefix}${process.pid}.db`);
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  };
  remove();
  process.once('exit', remove);
  const database = createDatabase({ url: `sqlite:${file}`, sqlite: { synchronous: 'NORMAL' } });
  try {
    await migrateToLatest(database);
  } finally {
    // The last connection to close checkpoints the WAL into the file and deletes it: the file alone is the database.
    await database.close();
  }
  if (fs.existsSync(`${file}-wal`)) throw new Error(`the SQLite template ${file} kept its WAL after closing`);
  return file;
}
