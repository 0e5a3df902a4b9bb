import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const platformTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('jobs'))
      .addColumn('queue', t.string(191), t.notNull)
      .addColumn('payload', t.json, t.notNull)
      .addColumn('headers', t.json, t.notNull)
      .addColumn('priority', t.integer, t.notNull)
      .addColumn('state', t.string(16), t.notNull)
      .addColumn('attempts', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', t.integer, t.notNull)
      .addColumn('available_at', t.timestamp, t.notNull)
      .addColumn('lease_until', t.timestamp)
      .addColumn('locked_by', t.string(64))
      .addColumn('dedupe_key', t.string(255))
      .addColumn('last_error', t.text)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema
      .createIndex('jobs_claim_idx')
      .on('jobs')
      .columns(['queue', 'state', 'priority desc', 'available_at', 'id'])
      .execute();
    // Partial where the engine has them: most jobs are never active for long and carry no dedupe key.
    const leaseIndex = db.schema.createIndex('jobs_lease_idx').on('jobs').columns(['state', 'lease_until']);
    await (t.partialIndexes ? leaseIndex.where(sql.ref('state'), '=', 'active') : leaseIndex).execute();
    const dedupeIndex = db.schema.createIndex('jobs_dedupe_uq').on('jobs').columns(['queue', 'dedupe_key']).unique();
    await (t.partialIndexes ? dedupeIndex.where(sql.ref('dedupe_key'), 'is not', null) : dedupeIndex).execute();

    await db.schema
      .createTable('kv')
      .addColumn('key', t.string(512), (c) => c.primaryKey())
      .addColumn('value', t.text, t.notNull)
      .addColumn('expires_at', t.timestamp)
      .execute();
    await db.schema.createIndex('kv_expires_idx').on('kv').column('expires_at').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('kv').execute();
    await db.schema.dropTable('jobs').execute();
  },
});
