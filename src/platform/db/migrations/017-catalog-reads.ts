import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/** Writers spread their increments over this many rows, so that concurrent ones rarely wait on each other. */
export const CATALOG_VERSION_SHARDS = 16;
/** How much of the folded name orders `sort=name`: an index key on MySQL holds at most 3,072 bytes. */
export const NAME_SORT_LENGTH = 191;

/**
 * What the catalog's readers need to be fast:
 * - `catalog_versions`: a counter that every catalog write (API, feed run, image download)
 *   increments in its own transaction; their sum changes with every commit, whichever shard it
 *   touched, so that a cached answer is known stale without reading it again.
 * - An index per sort key, with `id` for the ties, so that a page in any order is read in index
 *   order instead of sorting the whole table. Names sort by their folded form's first 191
 *   characters (`name_sort`).
 */
export const catalogReads = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('catalog_versions')
      .addColumn('shard', t.integer, (c) => c.primaryKey())
      .addColumn('version', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('changed_at', t.timestamp, (c) => c.notNull().defaultTo(0))
      .execute();
    const now = Date.now();
    await db
      .insertInto('catalog_versions')
      .values(Array.from({ length: CATALOG_VERSION_SHARDS }, (_, shard) => ({ shard, version: 0, changed_at: now })))
      .execute();
    await db.schema
      .alterTable('pornstars')
      .addColumn('name_sort', t.exactString(NAME_SORT_LENGTH), t.generated(sql`substr(name_search, 1, ${sql.lit(NAME_SORT_LENGTH)})`))
      .execute();
    await t.dropIndex(db, 'pornstars_rank_idx', 'pornstars');
    for (const column of ['name_sort', 'rank', 'views', 'subscriptions', 'age']) {
      await db.schema.createIndex(`pornstars_${column}_sort_idx`).on('pornstars').columns([column, 'id']).execute();
    }
  },
  async down(db: Kysely<any>) {
    for (const column of ['name_sort', 'rank', 'views', 'subscriptions', 'age']) await t.dropIndex(db, `pornstars_${column}_sort_idx`, 'pornstars');
    await db.schema.createIndex('pornstars_rank_idx').on('pornstars').column('rank').execute();
    await db.schema.alterTable('pornstars').dropColumn('name_sort').execute();
    await db.schema.dropTable('catalog_versions').execute();
  },
});
