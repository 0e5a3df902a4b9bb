import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * One row per outbound destination (the third party, a webhook endpoint, an image host) whose
 * circuit has opened, that a `Retry-After` has paused, or that an operator has forced: the state
 * every worker process shares. Each process counts failures itself and writes only when a
 * circuit changes state; a destination that never tripped has no row.
 */
export const outboundDestinationTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('outbound_destinations')
      .addColumn('destination', t.exactString(255), (c) => c.primaryKey())
      .addColumn('opened_at', t.timestamp)
      .addColumn('open_until', t.timestamp)
      .addColumn('cooldown_ms', t.integer)
      .addColumn('probe_until', t.timestamp)
      .addColumn('paused_until', t.timestamp)
      .addColumn('release_at', t.timestamp)
      .addColumn('forced', t.string(16))
      .addColumn('last_failure', t.string(255))
      .addColumn('last_failure_at', t.timestamp)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('outbound_destinations').execute();
  },
});
