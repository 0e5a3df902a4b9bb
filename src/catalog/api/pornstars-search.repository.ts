import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../platform/db/database.js';
import { searchWords } from '../../platform/search-key.js';

/**
 * Ranked search over the names and aliases (`q`). A search key (`searchKey`) is folded words
 * joined by single spaces: letters, digits and marks only, so that no LIKE wildcard, quote or
 * full-text operator can occur in one.
 *
 * A text (a name, or one alias) matches when every word of the query starts one of its words.
 * Each engine's full-text index finds the candidates (migration 019: SQLite FTS5, PostgreSQL a GIN
 * index of the words as a tsvector, MySQL a FULLTEXT index), and the same LIKE predicates on the
 * keys, on every engine, decide which of them match and how well (`searchMatches`): the engines'
 * tokenizers differ, the results do not.
 */

/**
 * A searched text: its table, key and pornstar, its first tier (equal; then starts with; then
 * words), its FTS5 table (SQLite: a copy of the key and the pornstar, so that the wide rows are not
 * read) and its indexed column (MySQL).
 */
interface Text {
  table: string;
  key: string;
  pornstarId: string;
  firstTier: number;
  fts5: { table: string; pornstarId: string };
  fullText: string;
}
const NAME: Text = { table: 'pornstars', key: 'name_search', pornstarId: 'id', firstTier: 0, fts5: { table: 'pornstars_fts', pornstarId: 'rowid' }, fullText: 'name_ft' };
const ALIAS: Text = {
  table: 'pornstar_aliases',
  key: 'alias_search',
  pornstarId: 'pornstar_id',
  firstTier: 3,
  fts5: { table: 'pornstar_aliases_fts', pornstarId: 'pornstar_id' },
  fullText: 'alias_ft',
};

/** A pornstar that matches, and how well: its best `tier` (see `searchMatches`). */
export interface SearchMatch {
  pornstar_id: number;
  tier: number;
}

/**
 * The pornstars whose name or one of whose aliases matches `key`, each once with the relevance of
 * its best match, a derived table to join: `tier` 0 the whole name is the query, 1 the name starts
 * with it, 2 the query's words start words of the name, 3 an alias is the query, 4 an alias starts
 * with it, 5 the query's words start words of an alias.
 */
export function searchMatches(dialect: Dialect, key: string): RawBuilder<SearchMatch> {
  const words = wordsToMatch(key);
  if (words.length === 0) return sql<SearchMatch>`(select t.id as pornstar_id, 0 as tier from pornstars t where 1 = 0)`;
  const hits = sql.join([hitsOf(dialect, NAME, key, words), hitsOf(dialect, ALIAS, key, words)], sql` union all `);
  return sql<SearchMatch>`(select hits.pornstar_id, min(hits.tier) as tier from (${hits}) hits group by hits.pornstar_id)`;
}

/** How many words of a query, the longest, the full-text index looks up: the LIKE tests all of them on what it finds. */
const INDEXED_WORDS = 4;

/**
 * The words of `key` that say something: a word that another starts ("a" beside "ann") or repeats
 * is implied by it. Longest first.
 */
function wordsToMatch(key: string): string[] {
  const words = [...new Set(searchWords(key))].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return words.filter((word, i) => !words.some((other, j) => j < i && other.startsWith(word)));
}

/** Every word starts a word of `key`. */
function wordsMatch(key: RawBuilder<unknown>, words: string[]): RawBuilder<boolean> {
  return sql<boolean>`(${sql.join(
    words.map((word) => sql`(${key} like ${`${word}%`} or ${key} like ${`% ${word}%`})`),
    sql` and `,
  )})`;
}

/** The rows of `text` whose key matches every word, with their tier, found through the engine's full-text index. */
function hitsOf(dialect: Dialect, text: Text, key: string, words: string[]): RawBuilder<unknown> {
  const column = sql.ref(`t.${text.key}`);
  const tier = sql`case when ${column} = ${key} then ${sql.lit(text.firstTier)} when ${column} like ${`${key}%`} then ${sql.lit(text.firstTier + 1)} else ${sql.lit(text.firstTier + 2)} end`;
  const matches = wordsMatch(column, words);
  const indexed = words.slice(0, INDEXED_WORDS);
  if (dialect === 'sqlite') {
    const { table, pornstarId } = text.fts5;
    return sql`select ${sql.ref(`t.${pornstarId}`)} as pornstar_id, ${tier} as tier from ${sql.table(table)} t where ${sql.ref(`t.${table}`)} match ${fts5Query(indexed)} and ${matches}`;
  }
  const hits = sql`select ${sql.ref(`t.${text.pornstarId}`)} as pornstar_id, ${tier} as tier from ${sql.table(text.table)} t`;
  // The expression of the index (migration 019), to the letter.
  if (dialect === 'postgres') return sql`${hits} where array_to_tsvector(array_remove(string_to_array(${column}, ' '), '')) @@ cast(${tsQuery(indexed)} as tsquery) and ${matches}`;
  const query = booleanQuery(indexed);
  // Without a word MySQL's index can take, the keys themselves are read.
  return query ? sql`${hits} where match (${sql.ref(`t.${text.fullText}`)}) against (${query} in boolean mode) and ${matches}` : sql`${hits} where ${matches}`;
}

/** FTS5: every word as a quoted prefix term. */
function fts5Query(words: string[]): string {
  return words.map((word) => `"${word}"*`).join(' AND ');
}

/** PostgreSQL: every word as a prefix lexeme (`'ann':* & 'bel':*`), compared as is (no dictionary). */
function tsQuery(words: string[]): string {
  return words.map((word) => `'${word}':*`).join(' & ');
}

/**
 * Letters MySQL's (MariaDB 10.11's) full-text parser keeps inside a word, as they occur in search
 * keys: its Unicode tables are older than JavaScript's, and it splits a word at a letter they do
 * not know. Checked character by character against MariaDB 10.11; the search contract test has
 * words with letters beyond it.
 */
const MYSQL_WORD_START = /^[0-9a-z\u00df-\u024f\u03ac-\u03ce\u0430-\u0482\u048a-\u04ff\u0561-\u0587\u05d0-\u05ea\u0621-\u063a\u0641-\u064a\u0904-\u0939\u0e01-\u0e30\u10d0-\u10fa\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fa5\uac00-\ud7a3]+/;

/**
 * MySQL boolean mode: each word required, as a prefix of an indexed token. The indexed column
 * writes every word with `__` in front (migration 019), so that no token is shorter than
 * `innodb_ft_min_token_size` (3) or a stopword ("an", "the"). A word is cut before the first letter
 * MySQL might not keep in a token: the prefix still finds every candidate, and the LIKE decides.
 * Null when no word has such a prefix.
 */
function booleanQuery(words: string[]): string | null {
  const terms = words.map((word) => MYSQL_WORD_START.exec(word)?.[0]).filter((start) => start !== undefined);
  return terms.length > 0 ? [...new Set(terms)].map((start) => `+__${start}*`).join(' ') : null;
}
