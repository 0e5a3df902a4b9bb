import type { Kysely, Migration } from 'kysely';
import { SEARCH_KEY_MAX_LENGTH } from '../../search-key.js';
import type { ColumnTypes } from '../columns.js';

/**
 * What makes a feed run visible all at once, in one short transaction at its end, or not at all:
 *
 * - A pornstar new to the catalog is inserted while the feed is read, with its aliases, thumbnails
 *   and URLs, but with `pending_run_id` set: no reader sees it, nor its children, until the run's
 *   last transaction clears the mark (one indexed UPDATE). A killed run's pending rows are deleted
 *   by the next run.
 * - The items a run changes wait in the stage tables (`feed_stage_*`), keyed by the feed's
 *   `external_id`, until that transaction applies them with set-based statements. Their columns
 *   have the catalog's types and collations, so that those statements compare like with like. The
 *   stage holds one run at a time: each run empties it first, under the feed's lease.
 * - `children_hash` (of a pornstar's aliases and thumbnails as the feed gave them) lets a run that
 *   changes only an item's other fields (its daily stats) leave its children alone.
 */
export const feedStageTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('pornstars').addColumn('pending_run_id', t.foreignId).execute();
    await db.schema.alterTable('pornstars').addColumn('children_hash', t.string(64)).execute();
    await db.schema.createIndex('pornstars_pending_idx').on('pornstars').columns(['pending_run_id', 'id']).execute();

    await t
      .id(db.schema.createTable('feed_stage_pornstars'))
      .addColumn('external_id', t.string(64), t.notNull)
      /** The catalog row this item changes. */
      .addColumn('pornstar_id', t.foreignId, t.notNull)
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
      .addColumn('children_hash', t.string(64), t.notNull)
      /** 1 when the item's aliases or thumbnails differ from the stored ones: only then are its children staged and synced. */
      .addColumn('children_changed', t.integer, t.notNull)
      .addColumn('staged_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_pornstars_external_uq').on('feed_stage_pornstars').column('external_id').unique().execute();

    await t
      .id(db.schema.createTable('feed_stage_aliases'))
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('alias', t.string(255), t.notNull)
      .addColumn('alias_key', t.exactString(255), t.notNull)
      .addColumn('alias_search', t.exactString(SEARCH_KEY_MAX_LENGTH), t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_aliases_external_idx').on('feed_stage_aliases').column('external_id').execute();

    await t
      .id(db.schema.createTable('feed_stage_thumbnails'))
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('type', t.string(32), t.notNull)
      .addColumn('width', t.integer)
      .addColumn('height', t.integer)
      .execute();
    await db.schema.createIndex('feed_stage_thumbnails_external_idx').on('feed_stage_thumbnails').column('external_id').execute();

    await t
      .id(db.schema.createTable('feed_stage_thumbnail_urls'))
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('type', t.string(32), t.notNull)
      .addColumn('url', t.text, t.notNull)
      .addColumn('url_hash', t.string(64), t.notNull)
      .execute();
    await db.schema.createIndex('feed_stage_thumbnail_urls_external_idx').on('feed_stage_thumbnail_urls').columns(['external_id', 'type']).execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['feed_stage_thumbnail_urls', 'feed_stage_thumbnails', 'feed_stage_aliases', 'feed_stage_pornstars']) {
      await db.schema.dropTable(table).execute();
    }
    await t.dropIndex(db, 'pornstars_pending_idx', 'pornstars');
    await db.schema.alterTable('pornstars').dropColumn('children_hash').execute();
    await db.schema.alterTable('pornstars').dropColumn('pending_run_id').execute();
  },
});
