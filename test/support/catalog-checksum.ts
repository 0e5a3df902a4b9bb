import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../../src/platform/db/database.js';

/** The tables that make up what the catalog API shows. */
export const CATALOG_TABLES = ['pornstars', 'pornstar_aliases', 'pornstar_thumbnails', 'pornstar_thumbnail_urls'] as const;

/** sha256 of every row of every catalog table, in id order: any write that changes a value changes it. */
export async function catalogChecksum(db: Executor): Promise<string> {
  const hash = createHash('sha256');
  for (const table of CATALOG_TABLES) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by id`.execute(db);
    hash.update(`${table}:${rows.rows.length}\n`);
    for (const row of rows.rows) hash.update(`${JSON.stringify(row)}\n`);
  }
  return hash.digest('hex');
}
