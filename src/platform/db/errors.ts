/** True when `error` is a unique-key violation, whatever the engine. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505' ||
    code === 'ER_DUP_ENTRY'
  );
}

/** Socket errors, whichever driver (pg, mysql2, ioredis, amqplib) met them. */
export const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * mysql2's codes for a server that is gone, going, out of connections, or lost the database the
 * pool connects to: the server did not refuse the statement, it could not serve it.
 */
const MYSQL_CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_BAD_DB_ERROR',
  'ER_NO_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN',
  'ER_SHUTDOWN_COMPLETE',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
  'ER_HOST_IS_BLOCKED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);
/** MariaDB's "Connection was killed" (1927), which mysql2 has no name for. */
const MARIADB_CONNECTION_KILLED = 1927;

/**
 * The drivers' own words for a connection or pool that is closed or was cut: pg, pg-pool, mysql2,
 * better-sqlite3 (a closed handle) and Kysely (a destroyed instance, during shutdown).
 */
const CLOSED_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|not queryable|Cannot use a pool after calling end|connection is in closed state|Can't write in closed state|Pool is closed|The database connection is not open|driver has already been destroyed/i;

/**
 * True when `error` says the database could not be reached or dropped the connection (as opposed
 * to refusing a statement): PostgreSQL's connection-exception and shutdown classes and a database
 * that no longer exists, MySQL's lost, killed or refused connections, and the drivers' socket errors.
 */
export function isConnectionError(error: unknown): boolean {
  return someCause(error, (e) => {
    const { code, errno, message } = e as { code?: unknown; errno?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || MYSQL_CONNECTION_CODES.has(code) || isPostgresConnectionCode(code))) return true;
    if (errno === MARIADB_CONNECTION_KILLED) return true;
    return typeof message === 'string' && CLOSED_MESSAGES.test(message);
  });
}

/** PostgreSQL SQLSTATEs: connection exception (08), operator intervention (57P: shutdown, database dropped), no such database (3D000). */
function isPostgresConnectionCode(code: string): boolean {
  return /^(08[0-9A-Z]{3}|57P[0-9A-Z]{2}|3D000)$/.test(code);
}

/**
 * better-sqlite3's result codes (an extended code starts with its primary's name) for a database
 * file that cannot serve now: it cannot be opened, is locked past busy_timeout by another process,
 * fails on I/O, is not (or no longer) a database, the disk is full, or it went read-only (e.g.
 * SQLITE_READONLY_DBMOVED, when the file was removed while open).
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(CANTOPEN|BUSY|IOERR|NOTADB|CORRUPT|FULL|READONLY|PROTOCOL|NOLFS)/;

/**
 * True when the database cannot serve the request for now, whatever the statement: a connection
 * error (above), or an engine out of resources (PostgreSQL class 53: disk full, out of memory, too
 * many connections), read-only after a failover (PostgreSQL 25006, MySQL --read-only), or a SQLite
 * file that cannot be used. The HTTP edge answers 503 with Retry-After; readiness fails meanwhile.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isConnectionError(error)) return true;
  return someCause(error, (e) => {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code !== 'string') return false;
    if (SQLITE_UNAVAILABLE.test(code) || /^53[0-9A-Z]{3}$/.test(code) || code === '25006' || code === 'ER_READ_ONLY_MODE') return true;
    return code === 'ER_OPTION_PREVENTS_STATEMENT' && typeof message === 'string' && /read-only/i.test(message);
  });
}

/** Whether `test` holds for `error`, one of its causes, or a member of an AggregateError among them. */
export function someCause(error: unknown, test: (error: object) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  if (test(error)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => someCause(e, test, depth + 1))) return true;
  return someCause((error as { cause?: unknown }).cause, test, depth + 1);
}

/**
 * True when the engine aborted a transaction to break a deadlock (or a serialization conflict):
 * the transaction did nothing and may simply be run again.
 */
export function isDeadlock(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return code === '40P01' || code === '40001' || code === 'ER_LOCK_DEADLOCK' || errno === 1213;
}
