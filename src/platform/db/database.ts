import { sql, type Kysely } from 'kysely';
import { GroupCommit, runTransaction } from './group-commit.js';
import { openSqlite, sqliteWithoutFlush, type SqliteOptions } from './sqlite.js';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** A connection or an open transaction; repositories take it as their first argument. */
export type Executor = Kysely<any>;
export type TransactionWork<T> = (trx: Executor) => Promise<T>;

export interface TransactionOptions {
  /**
   * false: the commit need not wait for the disk (SQLite: synchronous=NORMAL for this transaction).
   * A crash may then lose it, never corrupt anything, and the next durable commit makes it
   * durable too. Only for bulk work that is redone when it was lost. Default true.
   */
  durable?: boolean;
}

export interface Database {
  readonly dialect: Dialect;
  /** For reads and single-statement writes. */
  readonly db: Executor;
  /** Runs `work` in a transaction. On SQLite, concurrent transactions are committed together. */
  transaction<T>(work: TransactionWork<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A short write that needs no transaction of its own. SQLite commits it together with the
   * concurrent transactions (one commit, one fsync); other engines run it on the pool.
   */
  write<T>(work: TransactionWork<T>, options?: TransactionOptions): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  sqlite?: Omit<SqliteOptions, 'path'>;
  groupCommit?: boolean;
}

export function createDatabase(options: DatabaseOptions): Database {
  const match = /^sqlite:(.+)$/.exec(options.url);
  if (!match?.[1]) throw new Error(`Unsupported DATABASE_URL: ${options.url}`);
  const db = openSqlite({ path: match[1], ...options.sqlite });
  const withoutFlush = sqliteWithoutFlush(db, options.sqlite?.synchronous ?? 'FULL');
  const groupCommit = options.groupCommit === false ? undefined : new GroupCommit(db, undefined, withoutFlush);
  return {
    dialect: 'sqlite',
    db,
    transaction: (work, transactionOptions) => {
      if (groupCommit) return groupCommit.run(work, transactionOptions);
      return transactionOptions?.durable === false ? withoutFlush(() => runTransaction(db, work)) : runTransaction(db, work);
    },
    write: (work, writeOptions) => (groupCommit ? groupCommit.run(work, writeOptions) : work(db)),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
