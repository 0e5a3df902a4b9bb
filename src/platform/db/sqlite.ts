import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

export interface SqliteOptions {
  path: string;
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
}

export function openSqlite(options: SqliteOptions): Kysely<any> {
  if (options.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  const connection = new SqliteDatabase(options.path);
  connection.pragma('journal_mode = WAL');
  connection.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  connection.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  connection.pragma('foreign_keys = ON');
  return new Kysely<any>({ dialect: new SqliteDialect({ database: connection }) });
}
