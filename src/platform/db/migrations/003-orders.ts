import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const ordersTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('orders'))
      .addColumn('user_id', t.foreignId, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('client_identity', t.string(255), t.notNull)
      .addColumn('client_contact_point', t.string(255), t.notNull)
      .addColumn('content_hash', t.string(64), t.notNull)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('orders_content_idx').on('orders').columns(['user_id', 'content_hash', 'created_at']).execute();

    await t
      .id(db.schema.createTable('order_items'))
      .addColumn('order_id', t.foreignId, (c) => c.notNull().references('orders.id').onDelete('cascade'))
      .addColumn('position', t.integer, t.notNull)
      .addColumn('label', t.string(255), t.notNull)
      .addColumn('kind', t.string(16), t.notNull)
      .addColumn('cost_cents', t.money, t.notNull)
      .addColumn('meta', t.json, t.notNull)
      .addColumn('priority', t.integer, t.notNull)
      .addColumn('status', t.string(16), t.notNull)
      .addColumn('details', t.json)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('order_items_order_idx').on('order_items').columns(['order_id', 'position']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('order_items').execute();
    await db.schema.dropTable('orders').execute();
  },
});
