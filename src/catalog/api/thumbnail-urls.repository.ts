import type { Updateable } from 'kysely';
import { sha256Hex } from '../../platform/canonical-json.js';
import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { insertReturningRow } from '../../platform/db/returning.js';
import type { CatalogTables, ImageStatus, PornstarThumbnailUrlsTable, ThumbnailUrlRow } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

export interface ThumbnailUrlFilter {
  thumbnailId?: number;
  includeRemoved: boolean;
}

export type NewThumbnailUrl = Omit<ThumbnailUrlRow, 'id'>;

/** A URL row with the state of its image, from `images` joined on the URL's hash. */
export interface ThumbnailUrlWithImage extends ThumbnailUrlRow {
  image_status: ImageStatus | null;
  image_sha256: string | null;
  image_ext: string | null;
}

function withImage(db: Executor) {
  return tables(db)
    .selectFrom('pornstar_thumbnail_urls')
    .leftJoin('images', 'images.url_hash', 'pornstar_thumbnail_urls.url_hash')
    .selectAll('pornstar_thumbnail_urls')
    .select(['images.status as image_status', 'images.sha256 as image_sha256', 'images.ext as image_ext']);
}

function filtered(db: Executor, filter: ThumbnailUrlFilter) {
  let query = withImage(db)
    .innerJoin('pornstar_thumbnails', 'pornstar_thumbnails.id', 'pornstar_thumbnail_urls.thumbnail_id')
    .innerJoin('pornstars', 'pornstars.id', 'pornstar_thumbnails.pornstar_id')
    .where('pornstars.pending_run_id', 'is', null);
  if (!filter.includeRemoved) query = query.where('pornstars.removed_at', 'is', null);
  if (filter.thumbnailId !== undefined) query = query.where('pornstar_thumbnail_urls.thumbnail_id', '=', filter.thumbnailId);
  return query;
}

export function listThumbnailUrls(db: Executor, filter: ThumbnailUrlFilter, limit: number, offset: number): Promise<ThumbnailUrlWithImage[]> {
  return filtered(db, filter).orderBy('pornstar_thumbnail_urls.id').limit(limit).offset(offset).execute();
}

export async function countThumbnailUrls(db: Executor, filter: ThumbnailUrlFilter): Promise<number> {
  let query = tables(db)
    .selectFrom('pornstar_thumbnail_urls')
    .innerJoin('pornstar_thumbnails', 'pornstar_thumbnails.id', 'pornstar_thumbnail_urls.thumbnail_id')
    .innerJoin('pornstars', 'pornstars.id', 'pornstar_thumbnails.pornstar_id')
    .where('pornstars.pending_run_id', 'is', null)
    .select((eb) => eb.fn.countAll<number | string>().as('count'));
  if (!filter.includeRemoved) query = query.where('pornstars.removed_at', 'is', null);
  if (filter.thumbnailId !== undefined) query = query.where('pornstar_thumbnail_urls.thumbnail_id', '=', filter.thumbnailId);
  return Number((await query.executeTakeFirstOrThrow()).count);
}

/** The URLs of every thumbnail of a page, with their images, in one query. */
export function listUrlsOfThumbnails(db: Executor, thumbnailIds: number[]): Promise<ThumbnailUrlWithImage[]> {
  if (thumbnailIds.length === 0) return Promise.resolve([]);
  return withImage(db)
    .where('pornstar_thumbnail_urls.thumbnail_id', 'in', thumbnailIds)
    .orderBy('pornstar_thumbnail_urls.thumbnail_id')
    .orderBy('pornstar_thumbnail_urls.id')
    .execute();
}

/** The URLs of every thumbnail of these pornstars, with their images, in one query. */
export function listUrlsOfPornstars(db: Executor, pornstarIds: number[]): Promise<ThumbnailUrlWithImage[]> {
  if (pornstarIds.length === 0) return Promise.resolve([]);
  return withImage(db)
    .innerJoin('pornstar_thumbnails', 'pornstar_thumbnails.id', 'pornstar_thumbnail_urls.thumbnail_id')
    .where('pornstar_thumbnails.pornstar_id', 'in', pornstarIds)
    .orderBy('pornstar_thumbnail_urls.thumbnail_id')
    .orderBy('pornstar_thumbnail_urls.id')
    .execute();
}

export function findThumbnailUrl(db: Executor, id: number, includeRemoved: boolean): Promise<ThumbnailUrlWithImage | undefined> {
  return filtered(db, { includeRemoved }).where('pornstar_thumbnail_urls.id', '=', id).executeTakeFirst();
}

export async function findThumbnailUrlIdByUrl(db: Executor, thumbnailId: number, url: string): Promise<number | undefined> {
  const row = await tables(db)
    .selectFrom('pornstar_thumbnail_urls')
    .select('id')
    .where('thumbnail_id', '=', thumbnailId)
    .where('url_hash', '=', sha256Hex(url))
    .where('url', '=', url)
    .executeTakeFirst();
  return row?.id;
}

export function insertThumbnailUrl(db: Executor, url: NewThumbnailUrl): Promise<ThumbnailUrlRow> {
  return insertReturningRow<ThumbnailUrlRow>(db, 'pornstar_thumbnail_urls', url);
}

export async function insertThumbnailUrls(db: Executor, urls: NewThumbnailUrl[]): Promise<void> {
  if (urls.length > 0) await tables(db).insertInto('pornstar_thumbnail_urls').values(urls).execute();
}

export async function updateThumbnailUrl(db: Executor, id: number, changes: Updateable<PornstarThumbnailUrlsTable>): Promise<void> {
  await tables(db).updateTable('pornstar_thumbnail_urls').set(changes).where('id', '=', id).execute();
}

export async function deleteThumbnailUrls(db: Executor, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('pornstar_thumbnail_urls').where('id', 'in', ids).executeTakeFirst();
  return Number(result.numDeletedRows);
}
