import { sql, type Kysely, type Migration } from 'kysely';
import { searchKey } from '../../search-key.js';
import type { ColumnTypes } from '../columns.js';

const BACKFILL_BATCH = 500;

/** SQLite's tokenizer: marks stay in a word, as in `searchKey`, and nothing is folded that the key has not folded. */
const FTS5 = `tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'", detail = none, columnsize = 0`;

/**
 * SQLite: an FTS5 table per text, keyed by the row's id, with a copy of the key (and of an alias's
 * pornstar), so that a search reads neither the wide pornstar rows nor the aliases. Triggers keep
 * it in step within the writing transaction; a key written unchanged (a feed run rewrites every
 * column of a changed pornstar) costs nothing.
 */
const SQLITE_UP = [
  `create virtual table pornstars_fts using fts5(name_search, ${FTS5})`,
  `create trigger pornstars_fts_insert after insert on pornstars begin
     insert into pornstars_fts (rowid, name_search) values (new.id, new.name_search); end`,
  `create trigger pornstars_fts_delete after delete on pornstars begin
     delete from pornstars_fts where rowid = old.id; end`,
  `create trigger pornstars_fts_update after update of name_search on pornstars when old.name_search <> new.name_search begin
     update pornstars_fts set name_search = new.name_search where rowid = new.id; end`,
  `insert into pornstars_fts (rowid, name_search) select id, name_search from pornstars`,

  `create virtual table pornstar_aliases_fts using fts5(alias_search, pornstar_id unindexed, ${FTS5})`,
  `create trigger pornstar_aliases_fts_insert after insert on pornstar_aliases begin
     insert into pornstar_aliases_fts (rowid, alias_search, pornstar_id) values (new.id, new.alias_search, new.pornstar_id); end`,
  `create trigger pornstar_aliases_fts_delete after delete on pornstar_aliases begin
     delete from pornstar_aliases_fts where rowid = old.id; end`,
  `create trigger pornstar_aliases_fts_update after update of alias_search, pornstar_id on pornstar_aliases
     when old.alias_search <> new.alias_search or old.pornstar_id <> new.pornstar_id begin
     update pornstar_aliases_fts set alias_search = new.alias_search, pornstar_id = new.pornstar_id where rowid = new.id; end`,
  `insert into pornstar_aliases_fts (rowid, alias_search, pornstar_id) select id, alias_search, pornstar_id from pornstar_aliases`,
];
const SQLITE_DOWN = ['pornstars', 'pornstar_aliases'].flatMap((table) => [
  ...['insert', 'delete', 'update'].map((event) => `drop trigger ${table}_fts_${event}`),
  `drop table ${table}_fts`,
]);

/**
 * PostgreSQL: a GIN index of each key's words as a tsvector (`array_to_tsvector`: no parser and no
 * dictionary, the words as they are), which prefix queries (`'an':*`) read; `array_remove` spares
 * a key of another spelling (two spaces) the error of an empty lexeme. `fastupdate` is off: with
 * it, every search would also scan the list of entries not merged yet, up to 4 MB after a feed
 * run (10 ms and more for 21k pornstars), until a vacuum.
 */
const POSTGRES_UP = ['pornstars', 'pornstar_aliases'].map((table) => {
  const key = table === 'pornstars' ? 'name_search' : 'alias_search';
  return `create index ${table}_fts on ${table} using gin (array_to_tsvector(array_remove(string_to_array(${key}, ' '), ''))) with (fastupdate = off)`;
});
const POSTGRES_DOWN = ['drop index pornstar_aliases_fts', 'drop index pornstars_fts'];

/**
 * MySQL: a FULLTEXT index over a generated, invisible copy of each key with `__` before every word,
 * so that no token is under `innodb_ft_min_token_size` (3: "an", "jo") or a stopword ("the"),
 * whatever the server's settings; `select *` does not return the copy.
 */
const MYSQL_UP = [
  `alter table pornstars add column name_ft text character set utf8mb4 collate utf8mb4_bin
     generated always as (concat('__', replace(name_search, ' ', ' __'))) stored invisible`,
  'alter table pornstars add fulltext index pornstars_fts (name_ft)',
  `alter table pornstar_aliases add column alias_ft text character set utf8mb4 collate utf8mb4_bin
     generated always as (concat('__', replace(alias_search, ' ', ' __'))) stored invisible`,
  'alter table pornstar_aliases add fulltext index pornstar_aliases_fts (alias_ft)',
];
const MYSQL_DOWN = [
  'alter table pornstar_aliases drop index pornstar_aliases_fts',
  'alter table pornstar_aliases drop column alias_ft',
  'alter table pornstars drop index pornstars_fts',
  'alter table pornstars drop column name_ft',
];

/**
 * Ranked full-text search (`q`): the search keys become words (`searchKey` now keeps letters,
 * digits and marks only, one space between words), rewritten for the rows stored before, and each
 * engine indexes those words, kept in step in the writing transaction by the engine itself or by
 * triggers. `pornstars-search.repository.ts` reads them.
 */
export const catalogFullText = (t: ColumnTypes): Migration => {
  const [up, down] = t.dialect === 'sqlite' ? [SQLITE_UP, SQLITE_DOWN] : t.dialect === 'postgres' ? [POSTGRES_UP, POSTGRES_DOWN] : [MYSQL_UP, MYSQL_DOWN];
  return {
    async up(db: Kysely<any>) {
      await rewriteKeys(db, 'pornstars', 'name', 'name_search');
      await rewriteKeys(db, 'pornstar_aliases', 'alias', 'alias_search');
      for (const statement of up) await sql.raw(statement).execute(db);
    },
    async down(db: Kysely<any>) {
      for (const statement of down) await sql.raw(statement).execute(db);
    },
  };
};

/** Writes the search key of every row whose key `searchKey` now spells otherwise, a batch of rows per statement. */
async function rewriteKeys(db: Kysely<any>, table: string, from: string, to: string): Promise<void> {
  for (let after = 0; ; ) {
    const rows = (await db.selectFrom(table).select(['id', from, to]).where('id', '>', after).orderBy('id').limit(BACKFILL_BATCH).execute()) as Array<Record<string, unknown>>;
    if (rows.length === 0) return;
    const changed = rows.map((row) => ({ id: Number(row.id), key: searchKey(String(row[from])) })).filter((row, i) => row.key !== rows[i]![to]);
    if (changed.length > 0) {
      const keys = changed.map((row) => sql`when ${row.id} then ${row.key}`);
      await sql`update ${sql.table(table)} set ${sql.ref(to)} = case ${sql.ref('id')} ${sql.join(keys, sql` `)} end where ${sql.ref('id')} in (${sql.join(changed.map((row) => row.id))})`.execute(db);
    }
    after = Number(rows[rows.length - 1]!.id);
  }
}
