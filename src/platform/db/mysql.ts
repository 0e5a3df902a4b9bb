import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { PoolOptions } from './postgres.js';

/** A pool of connections to MySQL 8 or MariaDB 10.6+. */
export function openMysql(options: PoolOptions): Kysely<any> {
  const pool = createPool({
    uri: options.url,
    connectionLimit: options.poolMax,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // Sums and averages come back as DECIMAL; read them as numbers like the other engines do.
    decimalNumbers: true,
    supportBigNumbers: true,
    timezone: 'Z',
    // Affected rows count the rows an upsert changed, not the ones it matched: set-if-absent relies on it.
    flags: ['-FOUND_ROWS'],
    charset: 'utf8mb4_unicode_ci',
  });
  return new Kysely<any>({ dialect: new MysqlDialect({ pool }) });
}
