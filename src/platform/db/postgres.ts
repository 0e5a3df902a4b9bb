import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export interface PoolOptions {
  url: string;
  poolMax: number;
  /** How long a query waits for a free connection before it fails. */
  connectTimeoutMs?: number;
  /** A pooled connection failed, idle or checked out (the server restarted, a proxy cut it, the database was dropped). */
  onConnectionError?: (error: Error) => void;
  /**
   * Commits on these connections return before their WAL reaches the disk
   * (`synchronous_commit = off`): a crash may lose the last of them, never corrupt anything, and
   * any later durable commit flushes them too.
   */
  asynchronousCommit?: boolean;
}

const INT8_OID = 20;

/**
 * Counts, ids and epoch-millisecond timestamps are `bigint` columns that always fit in a double,
 * so they are read as numbers, as SQLite and MySQL return them.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** A pool of connections to PostgreSQL; the URL may carry `?options=-c search_path=<schema>`. */
export function openPostgres(options: PoolOptions): Kysely<any> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    types,
  });
  // A connection that dies emits 'error' on its client. The pool listens only while the client is
  // idle (and then re-emits it here); a client checked out between two queries (inside a
  // transaction, say, when the server shuts down or the database is dropped) has no listener but
  // this one, and an 'error' event nobody hears ends the process. Its next query fails ("not
  // queryable") and the pool discards it on release. Told once, by the client's listener.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', (error) => options.onConnectionError?.(error)));
  // A client runs its queries in order: the SET precedes whatever the pool hands the client out for.
  // Should it fail, the connection keeps committing durably: slower, never less safe.
  if (options.asynchronousCommit) pool.on('connect', (client) => void client.query('SET synchronous_commit TO off').catch(() => undefined));
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
}
