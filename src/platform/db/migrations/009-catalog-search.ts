import { sql, type Kysely, type Migration } from 'kysely';
import { searchKey, SEARCH_KEY_MAX_LENGTH } from '../../search-key.js';
import type { ColumnTypes } from '../columns.js';

const BACKFILL_BATCH = 500;

/**
 * Search that folds case and accents alike on every engine: each name and alias keeps its folded
 * form (`searchKey`), written with it, and `q` is matched against those. On MySQL the folded
 * columns and `alias_key` compare exactly (utf8mb4_bin), so that two aliases that differ only by
 * an accent ("Zoë", "Zoe") are two aliases there too, as on SQLite and PostgreSQL.
 */
export const catalogSearch = (t: ColumnTypes): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('pornstars')
      .addColumn('name_search', t.exactString(SEARCH_KEY_MAX_LENGTH), (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema
      .alterTable('pornstar_aliases')
      .addColumn('alias_search', t.exactString(SEARCH_KEY_MAX_LENGTH), (c) => c.notNull().defaultTo(''))
      .execute();
    if (t.dialect === 'mysql') await db.schema.alterTable('pornstar_aliases').modifyColumn('alias_key', t.exactString(255), (c) => c.notNull()).execute();
    await backfill(db, 'pornstars', 'name', 'name_search');
    await backfill(db, 'pornstar_aliases', 'alias', 'alias_search');
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('pornstar_aliases').dropColumn('alias_search').execute();
    await db.schema.alterTable('pornstars').dropColumn('name_search').execute();
  },
});

/** Writes the search key of every existing row, a batch of rows per statement. */
async function backfill(db: Kysely<any>, table: string, from: string, to: string): Promise<void> {
  for (let after = 0; ; ) {
    const rows = (await db.selectFrom(table).select(['id', from]).where('id', '>', after).orderBy('id').limit(BACKFILL_BATCH).execute()) as Array<Record<string, unknown>>;
    if (rows.length === 0) return;
    const ids = rows.map((row) => Number(row.id));
    const keys = rows.map((row) => sql`when ${Number(row.id)} then ${searchKey(String(row[from]))}`);
    await sql`update ${sql.table(table)} set ${sql.ref(to)} = case ${sql.ref('id')} ${sql.join(keys, sql` `)} end where ${sql.ref('id')} in (${sql.join(ids)})`.execute(db);
    after = ids[ids.length - 1]!;
  }
}
