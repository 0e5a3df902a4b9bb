import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createDatabase, type Database, type Dialect } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { dropAfterFile } from './database-cleanup.js';
import { createTempSqlite } from './driver-sqlite.js';
import { serviceUrls, type ServiceName } from './services.js';

/** The engine a test run's repository and API suites use: `TEST_DIALECT` (vitest projects set it), SQLite by default. */
export function testDialect(): Dialect {
  const dialect = process.env.TEST_DIALECT ?? 'sqlite';
  if (dialect !== 'sqlite' && dialect !== 'postgres' && dialect !== 'mysql') throw new Error(`TEST_DIALECT must be sqlite, postgres or mysql, got ${dialect}`);
  return dialect;
}

export const SERVICE_OF: Record<Exclude<Dialect, 'sqlite'>, ServiceName> = { postgres: 'postgres', mysql: 'mysql' };

/** The services the run's dialect needs (none for SQLite). */
export function dialectServices(dialect: Dialect = testDialect()): ServiceName[] {
  return dialect === 'sqlite' ? [] : [SERVICE_OF[dialect]];
}

export interface EmptyDatabase {
  /** A `DATABASE_URL` for a database that nobody else uses. */
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database on a server engine; it is dropped after the test file at the latest. */
export async function createEmptyDatabase(dialect: Exclude<Dialect, 'sqlite'>): Promise<EmptyDatabase> {
  const name = `intake_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  let empty: EmptyDatabase;
  if (dialect === 'postgres') {
    // A database, not a schema: Kysely's migrator looks at the tables of every schema it can see,
    // and would trip over another test's schema being dropped at that moment.
    await onPostgres(`create database ${name}`);
    const url = new URL(serviceUrls.postgres);
    url.pathname = `/${name}`;
    empty = { url: url.toString(), drop: () => onPostgres(`drop database if exists ${name} with (force)`) };
  } else {
    await onMysql(`create database ${name} character set utf8mb4 collate utf8mb4_unicode_ci`);
    const url = new URL(serviceUrls.mysql);
    url.pathname = `/${name}`;
    empty = { url: url.toString(), drop: () => onMysql(`drop database if exists ${name}`) };
  }
  dropAfterFile(empty.drop);
  return empty;
}

export interface TempDatabase {
  database: Database;
  url: string;
  cleanup(): Promise<void>;
}

/** A migrated, empty database of `dialect` (the run's dialect by default); cleanup closes and drops it. */
export async function createTempDatabase(prefix: string, dialect: Dialect = testDialect()): Promise<TempDatabase> {
  if (dialect === 'sqlite') {
    const sqlite = await createTempSqlite(prefix);
    return { database: sqlite.database, url: `sqlite:${sqlite.file}`, cleanup: sqlite.cleanup };
  }
  const empty = await createEmptyDatabase(dialect);
  const database = createDatabase({ url: empty.url, poolMax: 4 });
  await migrateToLatest(database);
  let closed = false;
  return {
    database,
    url: empty.url,
    cleanup: async () => {
      if (closed) return;
      closed = true;
      await database.close();
      await empty.drop();
    },
  };
}

/** Runs one statement on the PostgreSQL server as its admin. */
export async function onPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serviceUrls.postgres });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function onMysql(statement: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: serviceUrls.mysql });
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}
