import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../columns.js';

export const authTables = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await t
      .id(db.schema.createTable('users'))
      .addColumn('name', t.string(255), t.notNull)
      .addColumn('email', t.string(255), (c) => c.notNull().unique())
      .addColumn('password_hash', t.string(255), t.notNull)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();

    await t
      .id(db.schema.createTable('personal_access_tokens'))
      .addColumn('user_id', t.foreignId, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', t.string(255), t.notNull)
      .addColumn('token_hash', t.string(64), (c) => c.notNull().unique())
      .addColumn('abilities', t.json, t.notNull)
      .addColumn('last_used_at', t.timestamp)
      .addColumn('expires_at', t.timestamp)
      .addColumn('created_at', t.timestamp, t.notNull)
      .addColumn('updated_at', t.timestamp, t.notNull)
      .execute();
    await db.schema.createIndex('tokens_user_idx').on('personal_access_tokens').column('user_id').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('personal_access_tokens').execute();
    await db.schema.dropTable('users').execute();
  },
});
