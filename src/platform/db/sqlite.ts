import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement } from 'kysely';
import type { WithoutFlush } from './group-commit.js';

export interface SqliteOptions {
  path: string;
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /**
   * With `synchronous = FULL` and group commit: `background` (the default) commits with NORMAL
   * and flushes the log on libuv's thread pool before answering the callers; `commit` lets each
   * COMMIT wait for its fsync on the event loop.
   */
  logFlush?: 'background' | 'commit';
  /**
   * `background`: a thread of its own checkpoints the log (see SqliteCheckpointer), and this
   * connection checkpoints only past a backstop far above SQLite's default. `inline` (the
   * default): SQLite's automatic checkpoint, inside the COMMIT that crosses 1,000 pages.
   */
  checkpoint?: 'background' | 'inline';
  /** SQLite's own page cache; the operating system's file cache serves what it misses. Default 4 MiB. */
  cacheMb?: number;
  busyTimeoutMs?: number;
}

/** With the background checkpointer: the log's size (pages) past which a COMMIT checkpoints anyway, should the thread fall behind. */
const BACKSTOP_CHECKPOINT_PAGES = 25_000;

export interface OpenedSqlite {
  db: Kysely<any>;
  /** The write-ahead log is in use (not so for `:memory:`, nor where the file system cannot hold its shared memory). */
  wal: boolean;
}

export function openSqlite(options: SqliteOptions): OpenedSqlite {
  if (options.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  const connection = new SqliteDatabase(options.path);
  const wal = connection.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  connection.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  connection.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  connection.pragma('foreign_keys = ON');
  connection.pragma(`cache_size = -${Math.round((options.cacheMb ?? 4) * 1024)}`);
  // Statement journals of multi-row writes stay in memory instead of spilling to temp files.
  connection.pragma('temp_store = MEMORY');
  if (wal && options.checkpoint === 'background') connection.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  return { db: new Kysely<any>({ dialect: new SqliteDialect({ database: new StatementCache(connection) }) }), wal };
}

/**
 * Readiness of a SQLite database: the file at `file` is still the one opened (not removed or
 * replaced behind the process's back, which would leave it writing to a file nobody will read
 * again), and its header reads as a database (`pragma schema_version` reads page 1; `select 1`
 * would not touch the file at all).
 */
export function sqlitePing(db: Kysely<any>, file: string): () => Promise<void> {
  const opened = file === ':memory:' ? undefined : fs.statSync(file);
  return async () => {
    if (opened) {
      const now = await fs.promises.stat(file).catch(() => undefined);
      if (!now || now.ino !== opened.ino || now.dev !== opened.dev) throw new Error(`the SQLite database file ${file} was removed or replaced while open`);
    }
    await sql`pragma schema_version`.execute(db);
  };
}

/**
 * Runs a whole transaction with `synchronous = NORMAL`: in WAL mode its commit appends to the log
 * without an fsync. The log is written in order, so the next commit that does fsync (or the next
 * flush of the log) makes this one durable as well. The transaction runs on the connection pinned
 * for the call, so no other statement can commit at NORMAL before FULL is back.
 */
export function sqliteWithoutFlush(db: Kysely<any>, synchronous: NonNullable<SqliteOptions['synchronous']>): WithoutFlush {
  if (synchronous !== 'FULL') return (commit) => commit();
  return (commit) =>
    db.connection().execute(async (connection) => {
      await sql`pragma synchronous = NORMAL`.execute(connection);
      try {
        return await commit(connection);
      } finally {
        await sql`pragma synchronous = FULL`.execute(connection);
      }
    });
}

/**
 * Kysely prepares every query anew; preparing costs more than running a small statement, so
 * prepared statements are kept by their SQL text (the least recently added is dropped first).
 */
export class StatementCache implements KyselySqliteDatabase {
  private readonly statements = new Map<string, SqliteDatabase.Statement>();

  constructor(
    private readonly connection: SqliteDatabase.Database,
    private readonly capacity = 1000,
  ) {}

  prepare(sql: string): SqliteStatement {
    const cached = this.statements.get(sql);
    if (cached && !cached.busy) return cached;
    const statement = this.connection.prepare(sql);
    if (!cached) {
      if (this.statements.size >= this.capacity) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.connection.close();
  }
}
