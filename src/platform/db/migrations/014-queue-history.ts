import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * What every queue did, in buckets of one minute (kept a day) and five minutes (kept two weeks):
 * job attempts finished by outcome, and the waits of the attempts that started (from ready to
 * start). Every worker process adds its counts to the same rows, so the history is the whole
 * deployment's.
 */
export const queueHistoryTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('queue_history')
      .addColumn('queue', t.exactString(191), t.notNull)
      .addColumn('bucket_ms', t.integer, t.notNull)
      .addColumn('bucket_start', t.timestamp, t.notNull)
      .addColumn('completed', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('retried', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('failed', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('parked', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('started', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('wait_total_ms', t.bigint, (c) => c.notNull().defaultTo(0))
      .addColumn('wait_max_ms', t.bigint, (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('queue_history_pk', ['queue', 'bucket_ms', 'bucket_start'])
      .execute();
    await db.schema.createIndex('queue_history_by_age').on('queue_history').columns(['bucket_ms', 'bucket_start']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('queue_history').execute();
  },
});
