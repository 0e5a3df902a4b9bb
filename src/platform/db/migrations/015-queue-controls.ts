import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * What operators control and watch across every worker process: `queue_pauses`, one row per
 * paused queue (every worker polls it and stops claiming from those), and `worker_processes`,
 * one row per process that runs workers, rewritten by its heartbeat with the jobs it runs now.
 */
export const queueControlTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('queue_pauses')
      .addColumn('queue', t.exactString(191), (c) => c.primaryKey())
      .addColumn('paused_at', t.timestamp, t.notNull)
      .addColumn('paused_by', t.string(255), t.notNull)
      .addColumn('reason', t.string(500))
      .execute();
    await db.schema
      .createTable('worker_processes')
      .addColumn('id', t.exactString(191), (c) => c.primaryKey())
      .addColumn('role', t.string(32), t.notNull)
      .addColumn('hostname', t.string(255), t.notNull)
      .addColumn('pid', t.integer, t.notNull)
      .addColumn('version', t.string(64), t.notNull)
      .addColumn('started_at', t.timestamp, t.notNull)
      .addColumn('last_seen_at', t.timestamp, t.notNull)
      .addColumn('heartbeat_ms', t.integer, t.notNull)
      .addColumn('queues', t.json, t.notNull)
      .addColumn('running', t.json, t.notNull)
      .addColumn('running_count', t.integer, t.notNull)
      .execute();
    await db.schema.createIndex('worker_processes_last_seen_idx').on('worker_processes').column('last_seen_at').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('worker_processes').execute();
    await db.schema.dropTable('queue_pauses').execute();
  },
});
