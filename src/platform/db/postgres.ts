import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export interface PoolOptions {
  url: string;
  poolMax: number;
  /** How long a query waits for a free connection before it fails. */
  connectTimeoutMs?: number;
  /** A pooled connection failed while idle (the server restarted, a proxy cut it). */
  onIdleError?: (error: Error) => void;
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
  // pg drops a connection that dies while idle; without a listener its error would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  // A client runs its queries in order: the SET precedes whatever the pool hands the client out for.
  // Should it fail, the connection keeps committing durably: slower, never less safe.
  if (options.asynchronousCommit) pool.on('connect', (client) => void client.query('SET synchronous_commit TO off').catch(() => undefined));
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
}
