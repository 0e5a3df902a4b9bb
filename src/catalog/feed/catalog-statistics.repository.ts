import { sql } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import { executorDialect } from '../../platform/db/executor-dialect.js';

/** The tables a feed run fills, whose statistics the catalog's reads are planned with. */
const CATALOG_TABLES = ['pornstars', 'pornstar_aliases', 'pornstar_thumbnails', 'pornstar_thumbnail_urls', 'images'];

/**
 * Refreshes the planner statistics of the catalog's tables, as a bulk load should. Without them,
 * PostgreSQL plans the first reads after a large run as if the tables were nearly empty (the list
 * page's URLs by sequential scans: 62 ms instead of 2 ms at 21k items) until autovacuum's next
 * analyze, a minute later at best, or never where autovacuum is off. MySQL samples its own after a
 * tenth of a table changed, in the background; asked now, it is current at once. SQLite keeps no
 * statistics unless ANALYZE made them, and its plans here do not need them: it is left alone.
 * Run it outside a transaction: MySQL's ANALYZE TABLE commits.
 */
export async function refreshCatalogStatistics(db: Executor): Promise<boolean> {
  const dialect = executorDialect(db);
  if (dialect === 'sqlite') return false;
  const tables = sql.join(CATALOG_TABLES.map((table) => sql.table(table)));
  if (dialect === 'postgres') await sql`analyze ${tables}`.execute(db);
  else await sql`analyze table ${tables}`.execute(db);
  return true;
}
