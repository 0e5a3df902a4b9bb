import type { Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { insertReturningRow } from '../../platform/db/returning.js';
import type { CatalogTables, PornstarThumbnailsTable, ThumbnailRow, ThumbnailSource } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

export interface ThumbnailFilter {
  pornstarId?: number;
  type?: string;
  source?: ThumbnailSource;
  includeRemoved: boolean;
}

export type NewThumbnail = Omit<ThumbnailRow, 'id' | 'feed_type'>;

function filtered(db: Executor, filter: ThumbnailFilter) {
  let query = tables(db).selectFrom('pornstar_thumbnails').innerJoin('pornstars', 'pornstars.id', 'pornstar_thumbnails.pornstar_id').where('pornstars.pending_run_id', 'is', null);
  if (!filter.includeRemoved) query = query.where('pornstars.removed_at', 'is', null);
  if (filter.pornstarId !== undefined) query = query.where('pornstar_thumbnails.pornstar_id', '=', filter.pornstarId);
  if (filter.type !== undefined) query = query.where('pornstar_thumbnails.type', '=', filter.type);
  if (filter.source !== undefined) query = query.where('pornstar_thumbnails.source', '=', filter.source);
  return query;
}

export function listThumbnails(db: Executor, filter: ThumbnailFilter, limit: number, offset: number): Promise<ThumbnailRow[]> {
  return filtered(db, filter).selectAll('pornstar_thumbnails').orderBy('pornstar_thumbnails.id').limit(limit).offset(offset).execute();
}

export async function countThumbnails(db: Executor, filter: ThumbnailFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The thumbnails of every pornstar of a page, in one query. */
export function listThumbnailsOf(db: Executor, pornstarIds: number[]): Promise<ThumbnailRow[]> {
  if (pornstarIds.length === 0) return Promise.resolve([]);
  return tables(db).selectFrom('pornstar_thumbnails').selectAll().where('pornstar_id', 'in', pornstarIds).orderBy('pornstar_id').orderBy('id').execute();
}

export function findThumbnail(db: Executor, id: number, includeRemoved: boolean): Promise<ThumbnailRow | undefined> {
  return filtered(db, { includeRemoved }).selectAll('pornstar_thumbnails').where('pornstar_thumbnails.id', '=', id).executeTakeFirst();
}

export function insertThumbnail(db: Executor, thumbnail: NewThumbnail): Promise<ThumbnailRow> {
  return insertReturningRow<ThumbnailRow>(db, 'pornstar_thumbnails', thumbnail);
}

export async function updateThumbnail(db: Executor, id: number, changes: Updateable<PornstarThumbnailsTable>): Promise<void> {
  await tables(db).updateTable('pornstar_thumbnails').set(changes).where('id', '=', id).execute();
}

/** Their URLs go with them (foreign keys cascade). */
export async function deleteThumbnails(db: Executor, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('pornstar_thumbnails').where('id', 'in', ids).executeTakeFirst();
  return Number(result.numDeletedRows);
}
