import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import { executorDialect } from '../../platform/db/executor-dialect.js';
import { tablesOf } from '../../platform/db/tables.js';
import { insertReturningRow } from '../../platform/db/returning.js';
import { searchKey } from '../../platform/search-key.js';
import { changeSeqOfThisWrite } from '../catalog-changes.repository.js';
import type { CatalogTables, NewPornstarRow, PornstarRow, PornstarUpdate } from '../catalog.tables.js';
import { searchMatches } from './pornstars-search.repository.js';
import type { SortKey } from './pornstars.schemas.js';

const tables = tablesOf<CatalogTables>();

export type TextFilterColumn = 'gender' | 'orientation' | 'license' | 'hair_color' | 'ethnicity';

export interface PornstarFilter {
  includeRemoved: boolean;
  /**
   * A search key (`searchKey`): each of its words starts a word of the name, or each starts a word
   * of one alias (`pornstars-search.repository.ts`). An empty key (a query without a letter or
   * digit) matches nothing.
   */
  q?: string;
  /** Each column matches when one of its `|`-joined values equals one of these (lower-cased) values. */
  text: Array<{ column: TextFilterColumn; values: string[] }>;
  hasTattoos?: boolean;
  hasPiercings?: boolean;
  minAge?: number;
  maxAge?: number;
}

export interface PornstarSort {
  /** `relevance` ranks the matches of `q` (ascending only); without `q` it is the order by id. */
  key: SortKey | 'id' | 'relevance';
  descending: boolean;
}

type PornstarQuery<O> = SelectQueryBuilder<CatalogTables, 'pornstars', O>;

/** `!` escapes LIKE's wildcards on every engine (a backslash would not on MySQL). */
function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, '!$&');
}

function like(column: string, pattern: string) {
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '!'`;
}

/**
 * The pornstars table, joined with `q`'s matches when there is one: they keep only the pornstars
 * that match and bring their relevance (`search_match.tier`), and nothing to the selection.
 */
function pornstarsMatching(db: Executor, filter: PornstarFilter) {
  const pornstars = tables(db).selectFrom('pornstars');
  if (filter.q === undefined) return pornstars;
  return pornstars.innerJoin(searchMatches(executorDialect(db), filter.q).as('search_match'), 'search_match.pornstar_id', 'pornstars.id') as unknown as typeof pornstars;
}

function applyFilter<O>(query: PornstarQuery<O>, filter: PornstarFilter): PornstarQuery<O> {
  // A pornstar a feed run has inserted but not finished is no one's to see yet, removed or not.
  // The unary plus keeps SQLite's planner off the pending-run index, which matches nearly every row
  // and would make it sort the whole table instead of reading a sort key's index in order.
  let q = query.where(sql`+${sql.ref('pornstars.pending_run_id')}`, 'is', null);
  if (!filter.includeRemoved) q = q.where('pornstars.removed_at', 'is', null);
  for (const { column, values } of filter.text) {
    const ref = `pornstars.${column}`;
    q = q.where((eb: ExpressionBuilder<CatalogTables, 'pornstars'>) =>
      eb.or(
        values.flatMap((value) => {
          const v = escapeLike(value);
          return [eb(eb.fn('lower', [sql.ref(ref)]), '=', value), like(ref, `${v}|%`), like(ref, `%|${v}`), like(ref, `%|${v}|%`)];
        }),
      ),
    );
  }
  if (filter.hasTattoos !== undefined) q = q.where('pornstars.has_tattoos', '=', filter.hasTattoos ? 1 : 0);
  if (filter.hasPiercings !== undefined) q = q.where('pornstars.has_piercings', '=', filter.hasPiercings ? 1 : 0);
  if (filter.minAge !== undefined) q = q.where('pornstars.age', '>=', filter.minAge);
  if (filter.maxAge !== undefined) q = q.where('pornstars.age', '<=', filter.maxAge);
  return q;
}

/** The indexed column each sort key reads (with `id`, in one index): names by their folded form. */
const SORT_COLUMNS: Record<SortKey, 'name_sort' | 'rank' | 'views' | 'subscriptions' | 'age'> = { name: 'name_sort', rank: 'rank', views: 'views', subscriptions: 'subscriptions', age: 'age' };

/**
 * One page in the requested order, ties by id in the same direction; rows without a value come
 * last either way. Each part is read in the order of its index (the sort column's, or the primary
 * key), never sorted whole: the rows with a value first, then, when the page reaches past them, the
 * rows without one. By relevance, the matches of `q` are ranked by their tier (`searchMatches`),
 * then by popularity (`rank`, rows without one last), then by id.
 */
export async function listPornstars(db: Executor, filter: PornstarFilter, sort: PornstarSort, limit: number, offset: number): Promise<PornstarRow[]> {
  const rows = () => applyFilter(pornstarsMatching(db, filter).selectAll('pornstars'), filter);
  const direction = sort.descending ? 'desc' : 'asc';
  if (sort.key === 'relevance' && filter.q !== undefined) {
    return rows()
      .orderBy(sql.ref('search_match.tier'))
      .orderBy(sql`case when ${sql.ref('pornstars.rank')} is null then 1 else 0 end`)
      .orderBy('pornstars.rank')
      .orderBy('pornstars.id')
      .limit(limit)
      .offset(offset)
      .execute();
  }
  if (sort.key === 'id' || sort.key === 'relevance') return rows().orderBy('pornstars.id', direction).limit(limit).offset(offset).execute();
  const column = `pornstars.${SORT_COLUMNS[sort.key]}` as const;
  const valued = await rows().where(column, 'is not', null).orderBy(column, direction).orderBy('pornstars.id', direction).limit(limit).offset(offset).execute();
  if (valued.length === limit) return valued;
  const valuedTotal = valued.length > 0 ? offset + valued.length : await countWithValue(db, filter, column);
  const unvalued = await rows()
    .where(column, 'is', null)
    .orderBy('pornstars.id', direction)
    .limit(limit - valued.length)
    .offset(Math.max(0, offset - valuedTotal))
    .execute();
  return [...valued, ...unvalued];
}

async function countWithValue(db: Executor, filter: PornstarFilter, column: `pornstars.${string}`): Promise<number> {
  const query = applyFilter(pornstarsMatching(db, filter).select((eb) => eb.fn.countAll<number | string>().as('count')), filter);
  const row = await query.where(sql.ref(column), 'is not', null).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function countPornstars(db: Executor, filter: PornstarFilter): Promise<number> {
  const row = await applyFilter(pornstarsMatching(db, filter).select((eb) => eb.fn.countAll<number | string>().as('count')), filter).executeTakeFirstOrThrow();
  return Number(row.count);
}

export function findPornstar(db: Executor, id: number, includeRemoved: boolean): Promise<PornstarRow | undefined> {
  let query = tables(db).selectFrom('pornstars').selectAll().where('id', '=', id).where('pending_run_id', 'is', null);
  if (!includeRemoved) query = query.where('removed_at', 'is', null);
  return query.executeTakeFirst();
}

export async function findPornstarIdByExternalId(db: Executor, externalId: string): Promise<number | undefined> {
  const row = await tables(db).selectFrom('pornstars').select('id').where('external_id', '=', externalId).executeTakeFirst();
  return row?.id;
}

/**
 * The writes below stamp the pornstar with the transaction's change sequence number: they run in
 * a catalog write (`transact`), which took it first.
 */

/** Inserts a pornstar with the search key of its name. */
export async function insertPornstar(db: Executor, row: Omit<NewPornstarRow, 'name_search' | 'change_seq'>): Promise<PornstarRow> {
  return insertReturningRow<PornstarRow>(db, 'pornstars', { ...row, name_search: searchKey(row.name), change_seq: changeSeqOfThisWrite() });
}

/** Updates a pornstar; a new name comes with its new search key. */
export async function updatePornstar(db: Executor, id: number, changes: Omit<PornstarUpdate, 'name_search' | 'change_seq'>): Promise<void> {
  const withKey = changes.name === undefined ? changes : { ...changes, name_search: searchKey(changes.name) };
  await tables(db).updateTable('pornstars').set({ ...withKey, change_seq: changeSeqOfThisWrite() }).where('id', '=', id).execute();
}

/**
 * Marks a pornstar as changed through the API: its content hash is cleared, so that the next feed
 * run writes the feed's version again instead of skipping the item as unchanged.
 */
export async function touchPornstar(db: Executor, id: number, now: number): Promise<void> {
  await tables(db).updateTable('pornstars').set({ content_hash: null, children_hash: null, updated_at: now, change_seq: changeSeqOfThisWrite() }).where('id', '=', id).execute();
}

/** Aliases, thumbnails and their URLs go with it (foreign keys cascade). */
export async function deletePornstar(db: Executor, id: number): Promise<boolean> {
  const result = await tables(db).deleteFrom('pornstars').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
