import type { Kysely, Migration } from 'kysely';
import { SEARCH_KEY_MAX_LENGTH } from '../../search-key.js';
import type { ColumnTypes } from '../columns.js';

/**
 * Where a feed run puts the items it creates or changes, with their aliases, thumbnails and URLs,
 * until the whole feed has been read and judged: the run then applies them to the catalog in one
 * short transaction of set-based statements. A run that stops before that transaction commits
 * leaves the catalog exactly as it was (a later run empties the stage). The columns are those of
 * the catalog's tables, keyed by the feed's `external_id`, with the same types and collations so
 * that the statements compare like with like.
 */
export const feedStageTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('feed_stage_pornstars'))
      .addColumn('run_id', t.foreignId, t.notNull)
      .addColumn('external_id', t.string(64), t.notNull)
      /** The catalog row this item changes; NULL for an item new to the catalog. */
      .addColumn('pornstar_id', t.foreignId)
      .addColumn('name', t.string(255), t.notNull)
      .addColumn('name_search', t.exactString(SEARCH_KEY_MAX_LENGTH), t.notNull)
      .addColumn('link', t.string(1024))
      .addColumn('license', t.string(32))
      .addColumn('wl_status', t.boolean, t.notNull)
      .addColumn('hair_color', t.string(255))
      .addColumn('ethnicity', t.string(255))
      .addColumn('has_tattoos', t.boolean)
      .addColumn('has_piercings', t.boolean)
      .addColumn('breast_size', t.string(64))
      .addColumn('breast_type', t.string(64))
      .addColumn('gender', t.string(64))
      .addColumn('orientation', t.string(64))
      .addColumn('age', t.integer)
      .addColumn('subscriptions', t.bigint)
      .addColumn('monthly_searches', t.bigint)
      .addColumn('views', t.bigint)
      .addColumn('videos_count', t.integer)
      .addColumn('premium_videos_count', t.integer)
      .addColumn('white_label_video_count', t.integer)
      .addColumn('rank', t.integer)
      .addColumn('rank_premium', t.integer)
      .addColumn('rank_wl', t.integer)
      .addColumn('content_hash', t.string(64), t.notNull)
      .addColumn('staged_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_pornstars_run_uq').on('feed_stage_pornstars').columns(['run_id', 'external_id']).unique().execute();

    await t
      .id(db.schema.createTable('feed_stage_aliases'))
      .addColumn('run_id', t.foreignId, t.notNull)
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('alias', t.string(255), t.notNull)
      .addColumn('alias_key', t.exactString(255), t.notNull)
      .addColumn('alias_search', t.exactString(SEARCH_KEY_MAX_LENGTH), t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_aliases_run_idx').on('feed_stage_aliases').columns(['run_id', 'external_id']).execute();

    await t
      .id(db.schema.createTable('feed_stage_thumbnails'))
      .addColumn('run_id', t.foreignId, t.notNull)
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('type', t.string(32), t.notNull)
      .addColumn('width', t.integer)
      .addColumn('height', t.integer)
      .execute();
    await db.schema.createIndex('feed_stage_thumbnails_run_idx').on('feed_stage_thumbnails').columns(['run_id', 'external_id']).execute();

    await t
      .id(db.schema.createTable('feed_stage_thumbnail_urls'))
      .addColumn('run_id', t.foreignId, t.notNull)
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('type', t.string(32), t.notNull)
      .addColumn('url', t.text, t.notNull)
      .addColumn('url_hash', t.string(64), t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_thumbnail_urls_run_idx').on('feed_stage_thumbnail_urls').columns(['run_id', 'external_id', 'type']).execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['feed_stage_thumbnail_urls', 'feed_stage_thumbnails', 'feed_stage_aliases', 'feed_stage_pornstars']) {
      await db.schema.dropTable(table).execute();
    }
  },
});
