import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const catalogTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('pornstars'))
      .addColumn('external_id', t.string(64), (c) => c.notNull().unique())
      .addColumn('name', t.string(255), t.notNull)
      .addColumn('link', t.string(1024))
      .addColumn('license', t.string(32))
      .addColumn('wl_status', t.boolean, (c) => c.notNull().defaultTo(false))
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
      .addColumn('content_hash', t.string(64))
      .addColumn('removed_at', t.timestamp)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('pornstars_rank_idx').on('pornstars').column('rank').execute();

    await t
      .id(db.schema.createTable('pornstar_aliases'))
      .addColumn('pornstar_id', t.foreignId, (c) => c.notNull().references('pornstars.id').onDelete('cascade'))
      .addColumn('alias', t.string(255), t.notNull)
      .addColumn('alias_key', t.string(255), t.notNull)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('pornstar_aliases_uq').on('pornstar_aliases').columns(['pornstar_id', 'alias_key']).unique().execute();

    await t
      .id(db.schema.createTable('pornstar_thumbnails'))
      .addColumn('pornstar_id', t.foreignId, (c) => c.notNull().references('pornstars.id').onDelete('cascade'))
      .addColumn('type', t.string(32), t.notNull)
      .addColumn('width', t.integer)
      .addColumn('height', t.integer)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('pornstar_thumbnails_uq').on('pornstar_thumbnails').columns(['pornstar_id', 'type']).unique().execute();

    await t
      .id(db.schema.createTable('pornstar_thumbnail_urls'))
      .addColumn('thumbnail_id', t.foreignId, (c) => c.notNull().references('pornstar_thumbnails.id').onDelete('cascade'))
      .addColumn('url', t.text, t.notNull)
      .addColumn('url_hash', t.string(64), t.notNull)
      .addColumn('local_path', t.string(1024))
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('pornstar_thumbnail_urls_thumbnail_idx').on('pornstar_thumbnail_urls').column('thumbnail_id').execute();

    await t
      .id(db.schema.createTable('images'))
      .addColumn('url', t.text, t.notNull)
      .addColumn('url_hash', t.string(64), (c) => c.notNull().unique())
      .addColumn('status', t.string(16), t.notNull)
      .addColumn('sha256', t.string(64))
      .addColumn('ext', t.string(8))
      .addColumn('content_type', t.string(64))
      .addColumn('bytes', t.bigint)
      .addColumn('attempts', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', t.text)
      .addColumn('fetched_at', t.timestamp)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('images_status_idx').on('images').column('status').execute();

    await t
      .id(db.schema.createTable('feed_runs'))
      .addColumn('status', t.string(16), t.notNull)
      .addColumn('trigger', t.string(16), t.notNull)
      .addColumn('source', t.text, t.notNull)
      .addColumn('http_status', t.integer)
      .addColumn('bytes', t.bigint)
      .addColumn('etag', t.string(255))
      .addColumn('last_modified', t.string(64))
      .addColumn('generation_date', t.string(64))
      .addColumn('body_sha256', t.string(64))
      .addColumn('items_seen', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('created_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('updated_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('unchanged_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('removed_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('invalid_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('repaired_count', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('images_enqueued', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('invalid_samples', t.json)
      .addColumn('error', t.text)
      .addColumn('started_at', t.timestamp, t.notNull)
      .addColumn('finished_at', t.timestamp)
      .execute();
    await db.schema.createIndex('feed_runs_status_idx').on('feed_runs').columns(['status', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['feed_runs', 'images', 'pornstar_thumbnail_urls', 'pornstar_thumbnails', 'pornstar_aliases', 'pornstars']) {
      await db.schema.dropTable(table).execute();
    }
  },
});
