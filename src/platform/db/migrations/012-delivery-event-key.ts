import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * Drops the foreign key from `webhook_deliveries.event_id` to `webhook_events.id` on PostgreSQL
 * and MySQL. Every delivery is inserted in the transaction that inserts its event, the retention
 * sweep deletes deliveries before their events, and a user's deliveries still go with the user
 * through `endpoint_id`'s key: the constraint guarded nothing, and cost a check per delivery.
 * PostgreSQL plans that check once per connection and keeps the plan: planned while the events
 * table was small, it stayed a sequential scan of every event as the table grew, until the next
 * ANALYZE (0.5 ms per delivery at 16k events; half the webhook pipeline's throughput).
 * SQLite cannot drop a constraint in place, and its check is always a lookup in the unique index.
 */
export const deliveryEventKey = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    if (t.dialect === 'sqlite') return;
    const name = await eventForeignKeyName(db, t.dialect);
    if (name === undefined) return;
    if (t.dialect === 'postgres') await db.schema.alterTable('webhook_deliveries').dropConstraint(name).execute();
    else await sql`alter table webhook_deliveries drop foreign key ${sql.id(name)}`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (t.dialect === 'sqlite') return;
    await db.schema
      .alterTable('webhook_deliveries')
      .addForeignKeyConstraint('webhook_deliveries_event_id_fkey', ['event_id'], 'webhook_events', ['id'], (c) => c.onDelete('cascade'))
      .execute();
  },
});

/** The constraint's name as the engine gave it (migration 011 left the naming to the engine). */
async function eventForeignKeyName(db: Kysely<any>, dialect: 'postgres' | 'mysql'): Promise<string | undefined> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ name: string }>`
          select c.conname as name from pg_constraint c
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
          where c.contype = 'f' and c.conrelid = 'webhook_deliveries'::regclass and c.confrelid = 'webhook_events'::regclass and a.attname = 'event_id'`.execute(db)
      : await sql<{ name: string }>`
          select constraint_name as name from information_schema.key_column_usage
          where table_schema = database() and table_name = 'webhook_deliveries' and column_name = 'event_id' and referenced_table_name = 'webhook_events'`.execute(db);
  return rows[0]?.name;
}
