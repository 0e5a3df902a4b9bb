import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

/**
 * Webhooks: each user's endpoints, the events of their orders (kept WEBHOOK_LOG_DAYS for polling
 * and redelivery), and one delivery per event and subscribed endpoint. `orders.finished_at` is set
 * once, when the last recurring item reaches an outcome, so that `order.completed` is sent once.
 */
export const webhookTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('orders').addColumn('finished_at', t.timestamp).execute();

    await t
      .id(db.schema.createTable('webhook_endpoints'))
      .addColumn('user_id', t.foreignId, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('url', t.text, t.notNull)
      .addColumn('description', t.string(255))
      .addColumn('events', t.json, t.notNull)
      .addColumn('secret', t.string(128), t.notNull)
      .addColumn('previous_secret', t.string(128))
      .addColumn('previous_secret_until', t.timestamp)
      .addColumn('enabled', t.integer, t.notNull)
      .addColumn('disabled_reason', t.string(255))
      .addColumn('disabled_at', t.timestamp)
      .addColumn('failing_since', t.timestamp)
      .addColumn('last_success_at', t.timestamp)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('webhook_endpoints_user_idx').on('webhook_endpoints').columns(['user_id', 'id']).execute();

    await t
      .id(db.schema.createTable('webhook_events'), 'seq')
      .addColumn('id', t.exactString(40), t.notNull)
      .addColumn('user_id', t.foreignId, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('type', t.string(64), t.notNull)
      .addColumn('body', t.json, t.notNull)
      .addColumn('created_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('webhook_events_id_uq').on('webhook_events').column('id').unique().execute();
    await db.schema.createIndex('webhook_events_user_idx').on('webhook_events').columns(['user_id', 'seq']).execute();
    await db.schema.createIndex('webhook_events_created_idx').on('webhook_events').column('created_at').execute();

    await t
      .id(db.schema.createTable('webhook_deliveries'))
      .addColumn('message_id', t.exactString(40), t.notNull)
      .addColumn('endpoint_id', t.foreignId, (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
      .addColumn('event_id', t.exactString(40), (c) => c.notNull().references('webhook_events.id').onDelete('cascade'))
      .addColumn('status', t.string(16), t.notNull)
      .addColumn('attempts', t.integer, (c) => c.notNull().defaultTo(0))
      .addColumn('last_status_code', t.integer)
      .addColumn('last_duration_ms', t.integer)
      .addColumn('last_error', t.text)
      .addColumn('next_attempt_at', t.timestamp)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .addColumn('finished_at', t.timestamp)
      .execute();
    await db.schema.createIndex('webhook_deliveries_message_uq').on('webhook_deliveries').column('message_id').unique().execute();
    await db.schema.createIndex('webhook_deliveries_endpoint_id_idx').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
    await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'status', 'id']).execute();
    await db.schema.createIndex('webhook_deliveries_event_idx').on('webhook_deliveries').columns(['event_id', 'endpoint_id']).execute();
    await db.schema.createIndex('webhook_deliveries_status_idx').on('webhook_deliveries').columns(['status', 'updated_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('webhook_deliveries').execute();
    await db.schema.dropTable('webhook_events').execute();
    await db.schema.dropTable('webhook_endpoints').execute();
    await db.schema.alterTable('orders').dropColumn('finished_at').execute();
  },
});
