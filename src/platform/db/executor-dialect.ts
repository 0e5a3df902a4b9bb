import { MysqlAdapter, PostgresAdapter } from 'kysely';
import type { Executor } from './database.js';
import type { Dialect } from './urls.js';

/** The engine behind a connection or transaction, for the few statements that must differ. */
export function executorDialect(db: Executor): Dialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  return 'sqlite';
}
