import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const outboxTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('outbox'))
      .addColumn('queue', t.string(191), t.notNull)
      .addColumn('payload', t.json, t.notNull)
      .addColumn('headers', t.json, t.notNull)
      .addColumn('priority', t.integer, t.notNull)
      .addColumn('max_attempts', t.integer)
      .addColumn('dedupe_key', t.string(255))
      .addColumn('available_at', t.timestamp, t.notNull)
      .addColumn('attempts', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_until', t.timestamp)
      .addColumn('claimed_by', t.string(64))
      .addColumn('last_error', t.text)
      .addColumn('created_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('outbox_claim_idx').on('outbox').columns(['priority desc', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('outbox').execute();
  },
});
