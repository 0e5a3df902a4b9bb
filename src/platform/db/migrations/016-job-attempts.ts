import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * One row per finished attempt of a job (and per parking, and per held job's first deferral),
 * written in batches by the workers and kept JOB_ATTEMPT_LOG_HOURS: the recent completed and
 * failed jobs of a queue, and every attempt of one job, after the queue has let go of it.
 * Priority, headers and enqueue time are unknown (null) on the row of a job parked by another
 * worker after its own died during the last attempt.
 */
export const jobAttemptTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('job_attempts'))
      .addColumn('queue', t.exactString(191), t.notNull)
      .addColumn('job_id', t.exactString(64), t.notNull)
      .addColumn('attempt', t.integer, t.notNull)
      .addColumn('priority', t.integer)
      .addColumn('outcome', t.string(16), t.notNull)
      .addColumn('started_at', t.timestamp, t.notNull)
      .addColumn('duration_ms', t.integer)
      .addColumn('error', t.text)
      .addColumn('process', t.string(255))
      .addColumn('payload', t.json)
      .addColumn('headers', t.json)
      .addColumn('enqueued_at', t.timestamp)
      .execute();
    await db.schema.createIndex('job_attempts_job_idx').on('job_attempts').columns(['queue', 'job_id', 'started_at']).execute();
    // Also the retention sweep's, per queue and outcome: an index on the time alone would cost every
    // insert a fourth B-tree (about a tenth of the SQLite pipeline's throughput).
    await db.schema.createIndex('job_attempts_recent_idx').on('job_attempts').columns(['queue', 'outcome', 'started_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('job_attempts').execute();
  },
});
