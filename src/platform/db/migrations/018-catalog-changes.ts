import { randomBytes } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * What delta sync (`changed_since`) reads:
 * - `catalog_changes`: one row whose `seq` every catalog write takes the next value of, holding
 *   the row until it commits, so that changes commit in the order of their sequence numbers and
 *   a reader that has seen `seq` never meets a later commit with a smaller one. `epoch` names
 *   this catalog (a cursor from another database is refused); `pruned_seq` is the newest
 *   sequence number whose tombstones were deleted (an older cursor may have missed one).
 * - `pornstars.change_seq`: the sequence number of the pornstar's last change, its aliases,
 *   thumbnails, URLs and their image state included; indexed with `id` for paging.
 * - `images.state_seq`: NULL while a change of the image's state has not been stamped onto its
 *   pornstars yet (the stamp runs in batches, off the download's own transaction, and finds them
 *   by `pornstar_thumbnail_urls.url_hash`, indexed for it).
 * - `catalog_tombstones`: pornstars deleted through the API (the feed's removals stay as rows).
 * - `feed_run_changes`: what each feed run created, updated and removed, with the content hash
 *   it wrote; `feed_runs.change_seq` is the sequence number of its commit.
 */
export const catalogChanges = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('catalog_changes')
      .addColumn('id', t.integer, (c) => c.primaryKey())
      .addColumn('seq', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('epoch', t.string(32), t.notNull)
      .addColumn('pruned_seq', t.bigint, (c) => c.notNull().defaultTo(0))
      .execute();
    await db.insertInto('catalog_changes').values({ id: 1, seq: 0, epoch: randomBytes(8).toString('hex'), pruned_seq: 0 }).execute();

    await db.schema.alterTable('pornstars').addColumn('change_seq', t.bigint, (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('pornstars_change_seq_idx').on('pornstars').columns(['change_seq', 'id']).execute();

    await db.schema.alterTable('images').addColumn('state_seq', t.bigint).execute();
    await db.updateTable('images').set({ state_seq: 0 }).execute();
    await db.schema.createIndex('images_state_seq_idx').on('images').column('state_seq').execute();
    // The stamp finds the pornstars of changed images through their URLs' hashes.
    await db.schema.createIndex('pornstar_thumbnail_urls_url_hash_idx').on('pornstar_thumbnail_urls').column('url_hash').execute();

    await db.schema
      .createTable('catalog_tombstones')
      .addColumn('pornstar_id', t.foreignId, (c) => c.primaryKey())
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('removed_at', t.timestamp, t.notNull)
      .addColumn('change_seq', t.bigint, t.notNull)
      .execute();
    await db.schema.createIndex('catalog_tombstones_change_seq_idx').on('catalog_tombstones').columns(['change_seq', 'pornstar_id']).execute();

    await db.schema
      .createTable('feed_run_changes')
      .addColumn('run_id', t.foreignId, t.notNull)
      .addColumn('pornstar_id', t.foreignId, t.notNull)
      .addColumn('external_id', t.string(64), t.notNull)
      .addColumn('change', t.string(8), t.notNull)
      .addColumn('content_hash', t.string(64))
      .addPrimaryKeyConstraint('feed_run_changes_pk', ['run_id', 'pornstar_id'])
      .execute();
    await db.schema.alterTable('feed_runs').addColumn('change_seq', t.bigint).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('feed_runs').dropColumn('change_seq').execute();
    await db.schema.dropTable('feed_run_changes').execute();
    await db.schema.dropTable('catalog_tombstones').execute();
    await t.dropIndex(db, 'pornstar_thumbnail_urls_url_hash_idx', 'pornstar_thumbnail_urls');
    await t.dropIndex(db, 'images_state_seq_idx', 'images');
    await db.schema.alterTable('images').dropColumn('state_seq').execute();
    await t.dropIndex(db, 'pornstars_change_seq_idx', 'pornstars');
    await db.schema.alterTable('pornstars').dropColumn('change_seq').execute();
    await db.schema.dropTable('catalog_changes').execute();
  },
});
