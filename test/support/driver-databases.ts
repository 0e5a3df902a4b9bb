import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createDatabase, type Database, type Dialect } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { dropAfterFile } from './database-cleanup.js';
import { createTempSqlite } from './driver-sqlite.js';
import { serviceUrls, type ServiceName } from './services.js';
import { templatePrefix } from './templates.js';

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

const MYSQL_CHARSET = 'character set utf8mb4 collate utf8mb4_unicode_ci';

function databaseName(): string {
  return `intake_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function urlOf(dialect: Exclude<Dialect, 'sqlite'>, name: string): string {
  const url = new URL(serviceUrls[dialect]);
  url.pathname = `/${name}`;
  return url.toString();
}

function dropStatement(dialect: Exclude<Dialect, 'sqlite'>, name: string): () => Promise<void> {
  return dialect === 'postgres' ? () => postgresDrops.run(() => onPostgres(`drop database if exists ${name} with (force)`)) : () => onMysql(`drop database if exists ${name}`);
}

/**
 * A file's databases are dropped together after it, where concurrent drops share PostgreSQL's
 * checkpoints; at most 16 at a time, each on a connection of its own, so that a file of 40
 * databases leaves the server's connections (100 by default) to the other worker.
 */
const postgresDrops = limit(16);

function limit(concurrency: number): { run<T>(work: () => Promise<T>): Promise<T> } {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await work();
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}

/** Creates an empty, uniquely named database on a server engine; it is dropped after the test file at the latest. */
export async function createEmptyDatabase(dialect: Exclude<Dialect, 'sqlite'>): Promise<EmptyDatabase> {
  const name = databaseName();
  // A database, not a schema: Kysely's migrator looks at the tables of every schema it can see,
  // and would trip over another test's schema being dropped at that moment.
  if (dialect === 'postgres') await onPostgres(`create database ${name}`);
  else await onMysql(`create database ${name} ${MYSQL_CHARSET}`);
  const empty = { url: urlOf(dialect, name), drop: dropStatement(dialect, name) };
  dropAfterFile(empty.drop);
  return empty;
}

/**
 * A uniquely named database on a server engine with every migration applied; it is dropped after
 * the test file at the latest. The engine suites want one per test, and running the migrations
 * costs 1-3 s a database on PostgreSQL and MySQL: each test worker migrates a template once per
 * engine and copies it (0.2-0.5 s). Suites of the migrations themselves start from createEmptyDatabase.
 */
export async function createMigratedDatabase(dialect: Exclude<Dialect, 'sqlite'>): Promise<EmptyDatabase> {
  const template = await templateOf(dialect);
  if (template === undefined) {
    const empty = await createEmptyDatabase(dialect);
    const database = createDatabase({ url: empty.url, poolMax: 1 });
    try {
      await migrateToLatest(database);
    } finally {
      await database.close();
    }
    return empty;
  }
  const name = await makeCopy(dialect, template);
  const drop = dropStatement(dialect, name);
  dropAfterFile(drop);
  return { url: urlOf(dialect, name), drop };
}

export interface TempDatabase {
  database: Database;
  url: string;
  cleanup(): Promise<void>;
}

/** A migrated, empty database of `dialect` (the run's dialect by default); cleanup closes and drops it (on PostgreSQL, after the file). */
export async function createTempDatabase(prefix: string, dialect: Dialect = testDialect()): Promise<TempDatabase> {
  if (dialect === 'sqlite') {
    const sqlite = await createTempSqlite(prefix);
    return { database: sqlite.database, url: `sqlite:${sqlite.file}`, cleanup: sqlite.cleanup };
  }
  const migrated = await createMigratedDatabase(dialect);
  const database = createDatabase({ url: migrated.url, poolMax: 4 });
  // Connected here, as the migration used to connect it: a Database closed before its first query would connect anew on the next one.
  await database.ping();
  let closed = false;
  return {
    database,
    url: migrated.url,
    cleanup: async () => {
      if (closed) return;
      closed = true;
      await database.close();
      // PostgreSQL's DROP DATABASE waits for a checkpoint (0.5-1 s on a busy machine): the file's
      // databases are dropped together after it (dropAfterFile), where their drops share checkpoints.
      if (dialect !== 'postgres') await migrated.drop();
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

// ---------------------------------------------------------------------------------------------
// Templates: one migrated database per engine and test worker, copied for each migrated database.

interface Template {
  name: string;
}

/** MySQL has no template databases: the template's tables are created anew from its own DDL, and its rows (the migrations' bookkeeping) copied. */
interface MysqlTemplate extends Template {
  /** `create table` statements, as SHOW CREATE TABLE prints them. */
  tables: string[];
  /** `insert … select` statements for the tables that hold rows, `%s` standing for the new database. */
  rows: string[];
  /** Whether a copy was compared with the template yet (the first one is). */
  checked: boolean;
}

/** Kept on the global object: with isolation off the worker keeps them from one test file to the next (see database-cleanup.ts). */
const globalTemplates = globalThis as typeof globalThis & { intakeTestTemplates?: Map<Dialect, Promise<Template | undefined>> };
const templates = (globalTemplates.intakeTestTemplates ??= new Map());

async function makeCopy(dialect: Exclude<Dialect, 'sqlite'>, template: Template): Promise<string> {
  // Named after the template, which starts with the run's prefix: the run's end drops a copy a killed worker left behind.
  const name = `${template.name}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'postgres') await onPostgres(`create database ${name} template ${template.name}`);
  else await cloneMysql(template as MysqlTemplate, name);
  return name;
}

function templateOf(dialect: Exclude<Dialect, 'sqlite'>): Promise<Template | undefined> {
  let template = templates.get(dialect);
  if (!template) {
    const prefix = templatePrefix();
    template = prefix === undefined ? Promise.resolve(undefined) : createTemplate(dialect, `${prefix}${process.pid}`);
    // A template that failed is not cached: the next database tries again (and fails on its own if the server is gone).
    template.catch(() => templates.delete(dialect));
    templates.set(dialect, template);
  }
  return template;
}

async function createTemplate(dialect: Exclude<Dialect, 'sqlite'>, name: string): Promise<Template | undefined> {
  if (dialect === 'postgres') await onPostgres(`create database ${name}`);
  else await onMysql(`create database ${name} ${MYSQL_CHARSET}`);
  const url = urlOf(dialect, name);
  const database = createDatabase({ url, poolMax: 1 });
  try {
    await migrateToLatest(database);
  } finally {
    // PostgreSQL copies a database only while nobody is connected to it.
    await database.close();
  }
  return dialect === 'postgres' ? { name } : readMysqlTemplate(name);
}

async function readMysqlTemplate(name: string): Promise<MysqlTemplate | undefined> {
  const connection = await mysql.createConnection({ uri: serviceUrls.mysql });
  try {
    const query = async <T>(statement: string, values: unknown[] = []) => (await connection.query(statement, values))[0] as T[];
    // Anything but tables (views, triggers, routines, events) would need more than this copy: migrate anew instead.
    const others = await query<{ n: number }>(
      `select (select count(*) from information_schema.tables where table_schema = ? and table_type <> 'BASE TABLE')
            + (select count(*) from information_schema.triggers where trigger_schema = ?)
            + (select count(*) from information_schema.routines where routine_schema = ?)
            + (select count(*) from information_schema.events where event_schema = ?) as n`,
      [name, name, name, name],
    );
    if (Number(others[0]!.n) > 0) return undefined;
    const names = (await query<{ name: string }>('select table_name as name from information_schema.tables where table_schema = ? order by table_name', [name])).map((row) => row.name);
    const tables: string[] = [];
    const rows: string[] = [];
    for (const table of names) {
      const [created] = await query<Record<string, string>>(`show create table \`${name}\`.\`${table}\``);
      tables.push(created!['Create Table']!);
      const [count] = await query<{ n: number }>(`select count(*) as n from \`${name}\`.\`${table}\``);
      if (Number(count!.n) === 0) continue;
      // Generated columns take no value of their own.
      const columns = (await query<{ name: string }>("select column_name as name from information_schema.columns where table_schema = ? and table_name = ? and extra not like '%GENERATED%' order by ordinal_position", [name, table]))
        .map((row) => `\`${row.name}\``)
        .join(', ');
      rows.push(`insert into \`%s\`.\`${table}\` (${columns}) select ${columns} from \`${name}\`.\`${table}\``);
    }
    return { name, tables, rows, checked: false };
  } finally {
    await connection.end();
  }
}

async function cloneMysql(template: MysqlTemplate, name: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: serviceUrls.mysql, multipleStatements: true });
  try {
    const statements = [`create database ${name} ${MYSQL_CHARSET}`, `use ${name}`, 'set foreign_key_checks = 0', ...template.tables, ...template.rows.map((row) => row.replace('%s', name)), 'set foreign_key_checks = 1'];
    await connection.query(statements.join(';\n'));
    if (!template.checked) {
      await assertSameTables(connection, template.name, name);
      template.checked = true;
    }
  } finally {
    await connection.end();
  }
}

/** The copy's tables are the template's, to the DDL (without the AUTO_INCREMENT counters) and the row counts. */
async function assertSameTables(connection: mysql.Connection, template: string, copy: string): Promise<void> {
  const describe = async (schema: string) => {
    const [tables] = (await connection.query('select table_name as name from information_schema.tables where table_schema = ? order by table_name', [schema])) as unknown as [Array<{ name: string }>];
    const described: string[] = [];
    for (const { name } of tables) {
      const [[created]] = (await connection.query(`show create table \`${schema}\`.\`${name}\``)) as unknown as [Array<Record<string, string>>];
      const [[count]] = (await connection.query(`select count(*) as n from \`${schema}\`.\`${name}\``)) as unknown as [Array<{ n: number }>];
      described.push(`${created!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '')}\n-- ${count!.n} rows`);
    }
    return described.join('\n');
  };
  const [expected, actual] = [await describe(template), await describe(copy)];
  if (expected !== actual) throw new Error(`test/support/driver-databases.ts: the copy ${copy} of the MySQL template ${template} differs from it:\n${actual}\n--- template:\n${expected}`);
}
