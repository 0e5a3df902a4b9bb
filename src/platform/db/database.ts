import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { isDeadlock } from './errors.js';
import { GroupCommit, runTransaction, type GroupCommitSettings } from './group-commit.js';
import { openMysql } from './mysql.js';
import { openPostgres } from './postgres.js';
import { ReadReplica, type ReplicaStatus } from './read-replica.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { fileDatasync, LogFlusher } from './sqlite-log-flusher.js';
import { openSqlite, sqlitePing, sqliteWithoutFlush, type SqliteOptions } from './sqlite.js';
import { dialectOf, redactUrl, type Dialect } from './urls.js';

export type { Dialect } from './urls.js';

/** A connection or an open transaction; repositories take it as their first argument. */
export type Executor = Kysely<any>;
export type TransactionWork<T> = (trx: Executor) => Promise<T>;

export interface TransactionOptions {
  /**
   * false: the commit need not wait for the disk (SQLite: synchronous=NORMAL for this transaction;
   * PostgreSQL: a connection with synchronous_commit off; MySQL has no per-session equivalent and
   * always waits). A crash may then lose it, never corrupt anything, and the next durable commit
   * makes it durable too. Only for work that is redone or harmless when it was lost. Default true.
   */
  durable?: boolean;
  /**
   * true: in a group-commit batch, this unit runs at the same time as the other such units, and
   * their `coalesced` writes (platform/db/coalesce.ts) go in as one statement per kind. Only for
   * units whose statements commute with any other unit's: inserts of new rows, no
   * read-modify-write. Default false: the unit runs alone in its batch's transaction, after the
   * interleaved units, one after the other with the other such units.
   */
  interleave?: boolean;
}

export interface Database {
  readonly dialect: Dialect;
  /** For reads and single-statement writes. */
  readonly db: Executor;
  /**
   * Runs `work` in a transaction. Concurrent transactions are committed together (see
   * GroupCommit): `work` must touch the database only through `trx` and never wait for another
   * transaction. The promise settles once the commit that holds its writes is done.
   */
  transaction<T>(work: TransactionWork<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A short write that needs no transaction of its own. SQLite commits it together with the
   * concurrent transactions (one commit, one fsync); other engines run it on the pool, and run it
   * again when the engine aborted it to break a deadlock: `work` is one statement, a transaction
   * of its own, or statements that may run twice.
   */
  write<T>(work: TransactionWork<T>, options?: TransactionOptions): Promise<T>;
  /**
   * For reads that may be a little stale (listings, history): on the read replica when one is
   * configured and reachable, else on the primary. Never for a read that must see this request's
   * own writes, nor inside a transaction.
   */
  readStale<T>(work: (db: Executor) => Promise<T>): Promise<T>;
  replicaStatus(): ReplicaStatus;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `sqlite:<path>`, `postgres://…` or `mysql://…`. */
  url: string;
  /** A read replica of the same engine (not for SQLite). */
  readUrl?: string;
  /** Connections per pool (PostgreSQL, MySQL). */
  poolMax?: number;
  sqlite?: Omit<SqliteOptions, 'path'>;
  /** false: one transaction per call. Default: group commit with GroupCommit's defaults. */
  groupCommit?: boolean | GroupCommitSettings;
  logger?: Logger;
}

export function createDatabase(options: DatabaseOptions): Database {
  const dialect = dialectOf(options.url);
  if (dialect === 'sqlite') return createSqliteDatabase(options);
  if (dialect === undefined) throw new Error(`Unsupported DATABASE_URL: ${redactUrl(options.url)}`);
  return createPooledDatabase(dialect, options);
}

/** How often the background checkpointer copies SQLite's log into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

function createSqliteDatabase(options: DatabaseOptions): Database {
  const file = options.url.slice('sqlite:'.length);
  const { db, wal } = openSqlite({ path: file, ...options.sqlite });
  const synchronous = options.sqlite?.synchronous ?? 'FULL';
  const withoutFlush = sqliteWithoutFlush(db, synchronous);
  // Without a write-ahead log, a commit at NORMAL would not be durable by a flush of the log.
  const log = wal && synchronous === 'FULL' && options.sqlite?.logFlush !== 'commit' ? fileDatasync(`${file}-wal`) : undefined;
  const flusher = log && new LogFlusher(log.datasync);
  const checkpointer =
    wal && options.sqlite?.checkpoint === 'background'
      ? new SqliteCheckpointer({ file, intervalMs: CHECKPOINT_INTERVAL_MS }, (error) => options.logger?.error({ err: error }, 'the SQLite checkpoint thread failed'))
      : undefined;
  const groupCommit =
    options.groupCommit === false
      ? undefined
      : new GroupCommit(db, { ...settingsOf(options), concurrency: 1, withoutFlush, flushLog: flusher && (() => flusher.flush()), mixDurability: true });
  return {
    dialect: 'sqlite',
    db,
    transaction: (work, transactionOptions) => {
      if (groupCommit) return groupCommit.run(work, transactionOptions);
      return transactionOptions?.durable === false ? withoutFlush((connection) => runTransaction(connection ?? db, work)) : runTransaction(db, work);
    },
    write: (work, writeOptions) => (groupCommit ? groupCommit.write(work, writeOptions) : work(db)),
    readStale: (work) => work(db),
    replicaStatus: () => ({ configured: false, healthy: true, fallbacks: 0 }),
    ping: sqlitePing(db, file),
    close: async () => {
      await flusher?.idle();
      await checkpointer?.stop();
      await db.destroy();
      await log?.close();
    },
  };
}

/**
 * PostgreSQL or MySQL: a pool per URL. Concurrent transactions are grouped into batches, each one
 * transaction on one pooled connection; several batches (up to `concurrency`, and fewer than the
 * pool's connections, which reads need too) are written at once. A write runs on the pool.
 */
function createPooledDatabase(dialect: 'postgres' | 'mysql', options: DatabaseOptions): Database {
  const open = dialect === 'postgres' ? openPostgres : openMysql;
  const pool = { poolMax: options.poolMax ?? 10, onConnectionError: (error: Error) => options.logger?.warn({ err: error }, 'database connection lost') };
  const db = open({ url: options.url, ...pool });
  const relaxedDb = dialect === 'postgres' ? openPostgres({ url: options.url, ...pool, poolMax: Math.max(2, Math.ceil(pool.poolMax / 2)), asynchronousCommit: true }) : db;
  const onPool = (transactionOptions?: TransactionOptions) => (transactionOptions?.durable === false ? relaxedDb : db);
  if (options.readUrl !== undefined && dialectOf(options.readUrl) !== dialect) throw new Error('DATABASE_READ_URL must use the same engine as DATABASE_URL');
  const replicaDb = options.readUrl === undefined ? undefined : open({ url: options.readUrl, ...pool });
  const replica = replicaDb && new ReadReplica(replicaDb, db, options.logger);
  const settings = settingsOf(options);
  const concurrency = Math.max(1, Math.min(settings.concurrency ?? 4, pool.poolMax - 1));
  const groupCommit = options.groupCommit === false ? undefined : new GroupCommit(db, { ...settings, concurrency, relaxedDb, retryAlone: retryDeadlocks });
  return {
    dialect,
    db,
    transaction: (work, transactionOptions) =>
      groupCommit ? groupCommit.run(work, transactionOptions) : retryDeadlocks(() => runTransaction(onPool(transactionOptions), work)),
    write: (work, writeOptions) => retryDeadlocks(() => work(onPool(writeOptions))),
    readStale: (work) => (replica ? replica.read(work) : work(db)),
    replicaStatus: () => replica?.status() ?? { configured: false, healthy: true, fallbacks: 0 },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await Promise.all([db.destroy(), relaxedDb === db ? undefined : relaxedDb.destroy(), replicaDb?.destroy()]);
    },
  };
}

function settingsOf(options: DatabaseOptions): GroupCommitSettings {
  return typeof options.groupCommit === 'object' ? options.groupCommit : {};
}

const DEADLOCK_ATTEMPTS = 3;

/** Runs a transaction again (after a short random pause) when the engine aborted it to break a deadlock. */
async function retryDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}
