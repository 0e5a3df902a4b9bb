import type { Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { insertReturningRow } from '../../platform/db/returning.js';
import { searchKey } from '../../platform/search-key.js';
import type { AliasRow, CatalogTables, PornstarAliasesTable } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

export interface AliasFilter {
  pornstarId?: number;
  includeRemoved: boolean;
}

/** The repository adds the alias's search key. */
export type NewAlias = Omit<AliasRow, 'id' | 'alias_search'>;

const withSearchKey = (alias: NewAlias) => ({ ...alias, alias_search: searchKey(alias.alias) });

function filtered(db: Executor, filter: AliasFilter) {
  let query = tables(db).selectFrom('pornstar_aliases').innerJoin('pornstars', 'pornstars.id', 'pornstar_aliases.pornstar_id').where('pornstars.pending_run_id', 'is', null);
  if (!filter.includeRemoved) query = query.where('pornstars.removed_at', 'is', null);
  if (filter.pornstarId !== undefined) query = query.where('pornstar_aliases.pornstar_id', '=', filter.pornstarId);
  return query;
}

export function listAliases(db: Executor, filter: AliasFilter, limit: number, offset: number): Promise<AliasRow[]> {
  return filtered(db, filter).selectAll('pornstar_aliases').orderBy('pornstar_aliases.id').limit(limit).offset(offset).execute();
}

export async function countAliases(db: Executor, filter: AliasFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The aliases of every pornstar of a page, in one query. */
export function listAliasesOf(db: Executor, pornstarIds: number[]): Promise<AliasRow[]> {
  if (pornstarIds.length === 0) return Promise.resolve([]);
  return tables(db).selectFrom('pornstar_aliases').selectAll().where('pornstar_id', 'in', pornstarIds).orderBy('pornstar_id').orderBy('id').execute();
}

export function findAlias(db: Executor, id: number, includeRemoved: boolean): Promise<AliasRow | undefined> {
  return filtered(db, { includeRemoved }).selectAll('pornstar_aliases').where('pornstar_aliases.id', '=', id).executeTakeFirst();
}

export async function findAliasIdByKey(db: Executor, pornstarId: number, aliasKey: string): Promise<number | undefined> {
  const row = await tables(db).selectFrom('pornstar_aliases').select('id').where('pornstar_id', '=', pornstarId).where('alias_key', '=', aliasKey).executeTakeFirst();
  return row?.id;
}

export function insertAlias(db: Executor, alias: NewAlias): Promise<AliasRow> {
  return insertReturningRow<AliasRow>(db, 'pornstar_aliases', withSearchKey(alias));
}

export async function insertAliases(db: Executor, aliases: NewAlias[]): Promise<void> {
  if (aliases.length > 0) await tables(db).insertInto('pornstar_aliases').values(aliases.map(withSearchKey)).execute();
}

/** Updates an alias; a new spelling comes with its new search key. */
export async function updateAlias(db: Executor, id: number, changes: Omit<Updateable<PornstarAliasesTable>, 'alias_search'>): Promise<void> {
  const withKey = changes.alias === undefined ? changes : { ...changes, alias_search: searchKey(changes.alias) };
  await tables(db).updateTable('pornstar_aliases').set(withKey).where('id', '=', id).execute();
}

export async function deleteAliases(db: Executor, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('pornstar_aliases').where('id', 'in', ids).executeTakeFirst();
  return Number(result.numDeletedRows);
}
