import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/** A feed run keeps the envelope's `itemsCount` and a warning when the items seen disagree with it. */
export const feedRunReconcileColumns = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('feed_runs').addColumn('items_declared', t.integer).execute();
    await db.schema.alterTable('feed_runs').addColumn('warning', t.text).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('feed_runs').dropColumn('warning').execute();
    await db.schema.alterTable('feed_runs').dropColumn('items_declared').execute();
  },
});
