import type { Kysely } from 'kysely';
import type { Executor } from './database.js';

/**
 * The typed view of an executor for a module's tables: `const tables = tablesOf<AuthTables>();`
 * then `tables(db).selectFrom('users')`. Executors stay untyped so that one connection or
 * transaction serves every module; each repository names the tables it queries, once.
 */
export function tablesOf<Tables>(): (db: Executor) => Kysely<Tables> {
  return (db) => db as Kysely<Tables>;
}
