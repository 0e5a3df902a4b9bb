import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * Thumbnails record where they came from: `feed` (the feed ingestion's, one per pornstar and type,
 * kept in sync by every run) or `api` (a client's, any number per type, never touched by the feed).
 * The unique (pornstar_id, type) of 005 becomes unique among the feed's rows only, the same way on
 * every engine (MySQL has no partial indexes): a generated column `feed_type`, the type on a feed
 * row and NULL on an api row, under a unique (pornstar_id, feed_type). A unique index never takes
 * two NULLs for equal, so api rows never collide. That one index also serves every lookup by
 * pornstar (and the foreign key), as the index it replaces did: the feed's first run writes no
 * more index entries than before.
 *
 * Every row that exists before this migration came from the feed, or from the API when it kept one
 * thumbnail per type: they become `feed` rows, which keeps them unique per (pornstar, type).
 */
export const thumbnailSource = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('pornstar_thumbnails')
      .addColumn('source', t.string(8), (c) => c.notNull().defaultTo('feed'))
      .execute();
    await db.schema
      .alterTable('pornstar_thumbnails')
      .addColumn('feed_type', t.string(32), t.generated(sql`case when ${sql.ref('source')} = 'feed' then ${sql.ref('type')} end`))
      .execute();
    await db.schema.createIndex('pornstar_thumbnails_feed_uq').on('pornstar_thumbnails').columns(['pornstar_id', 'feed_type']).unique().execute();
    // Dropped after the new one exists: on MySQL the foreign key on pornstar_id needs an index that starts with it.
    await t.dropIndex(db, 'pornstar_thumbnails_uq', 'pornstar_thumbnails');
  },
  async down(db: Kysely<any>) {
    // Fails while a pornstar has two thumbnails of one type: delete the api duplicates first.
    await db.schema.createIndex('pornstar_thumbnails_uq').on('pornstar_thumbnails').columns(['pornstar_id', 'type']).unique().execute();
    await t.dropIndex(db, 'pornstar_thumbnails_feed_uq', 'pornstar_thumbnails');
    await db.schema.alterTable('pornstar_thumbnails').dropColumn('feed_type').execute();
    await db.schema.alterTable('pornstar_thumbnails').dropColumn('source').execute();
  },
});
