import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const idempotencyTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('idempotency_keys'))
      .addColumn('scope', t.string(64), t.notNull)
      .addColumn('key', t.string(255), t.notNull)
      .addColumn('fingerprint', t.string(64), t.notNull)
      .addColumn('status_code', t.integer, t.notNull)
      .addColumn('response_body', t.text, t.notNull)
      .addColumn('response_headers', t.json, t.notNull)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('expires_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('idempotency_keys_uq').on('idempotency_keys').columns(['scope', 'key']).unique().execute();
    await db.schema.createIndex('idempotency_keys_expires_idx').on('idempotency_keys').column('expires_at').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('idempotency_keys').execute();
  },
});
