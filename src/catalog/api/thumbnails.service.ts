import { NotFoundError, ValidationError } from '../../platform/errors/domain-errors.js';
import type { FieldErrors } from '../../platform/errors/field-errors.js';
import { offsetOf, type PageRequest } from '../../platform/http/pagination.js';
import { checkText } from '../../platform/http/validation.js';
import type { Executor } from '../../platform/db/database.js';
import type { ThumbnailRow } from '../catalog.tables.js';
import { checkUrlList, type UrlInput, type WriteMode } from './catalog.input.js';
import { claimImages, rowToWrite, replaceUrls, touchBoth, transact, unknownPornstar, urlRow, type CatalogServiceDeps, type Precondition } from './catalog.sync.js';
import { groupBy, type ThumbnailWithUrls } from './pornstars.presenter.js';
import { findPornstar, touchPornstar } from './pornstars.repository.js';
import { insertThumbnailUrls, listUrlsOfThumbnails } from './thumbnail-urls.repository.js';
import type { ThumbnailBodyData } from './thumbnails.schemas.js';
import {
  countThumbnails,
  deleteThumbnails,
  findThumbnail,
  insertThumbnail,
  listThumbnails,
  updateThumbnail,
  type ThumbnailFilter,
} from './thumbnails.repository.js';

/**
 * Only the feed's own thumbnails are unique per (pornstar, type), and no API write can make two of
 * them collide (a feed thumbnail keeps its slot, or becomes the API's when it leaves it): this is
 * the answer `transact` gives a unique violation, which should never come.
 */
const typeTaken = () => new ValidationError({ type: ['The type has already been taken.'] });

async function withUrls(db: Executor, thumbnails: ThumbnailRow[]): Promise<ThumbnailWithUrls[]> {
  const urls = groupBy(await listUrlsOfThumbnails(db, thumbnails.map((t) => t.id)), (u) => u.thumbnail_id);
  return thumbnails.map((thumbnail) => ({ thumbnail, urls: urls.get(thumbnail.id) ?? [] }));
}

export class ThumbnailsService {
  constructor(private readonly deps: CatalogServiceDeps) {}

  async list(filter: ThumbnailFilter, page: PageRequest): Promise<{ items: ThumbnailWithUrls[]; total: number }> {
    // A listing may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [rows, total] = await Promise.all([listThumbnails(db, filter, page.perPage, offsetOf(page)), countThumbnails(db, filter)]);
      return { items: await withUrls(db, rows), total };
    });
  }

  async get(id: number, includeRemoved = false): Promise<ThumbnailWithUrls> {
    const db = this.deps.database.db;
    const row = await findThumbnail(db, id, includeRemoved);
    if (!row) throw new NotFoundError();
    return (await withUrls(db, [row]))[0]!;
  }

  /**
   * The thumbnail (source `api`: the feed never touches it, even when the pornstar already has a
   * thumbnail of that type), its URLs and the claim of their images: one transaction.
   */
  async create(body: ThumbnailBodyData): Promise<ThumbnailWithUrls> {
    const { type, urls } = checkFields(body, 'replace');
    const pornstarId = body.pornstar_id!;
    return transact(this.deps, typeTaken, async (trx, now) => {
      if (!(await findPornstar(trx, pornstarId, false))) throw unknownPornstar();
      const row = await insertThumbnail(trx, {
        pornstar_id: pornstarId,
        type: type!,
        source: 'api',
        width: body.width ?? null,
        height: body.height ?? null,
        created_at: now,
        updated_at: now,
      });
      const added = urls ?? [];
      await insertThumbnailUrls(
        trx,
        added.map((url) => urlRow(row.id, url, now)),
      );
      await claimImages(this.deps.images, trx, added.map((url) => url.url));
      await touchPornstar(trx, pornstarId, now);
      return (await withUrls(trx, [row]))[0]!;
    });
  }

  /**
   * PUT (`replace`: width, height and urls left out become null and empty) or PATCH (`merge`). A
   * thumbnail moved to another pornstar or given another type becomes the API's (source `api`):
   * the feed's thumbnails are its (pornstar, type) slots, and the feed fills the slot it left on its
   * next run. One that stays in its slot keeps its source.
   */
  async update(id: number, body: ThumbnailBodyData, mode: WriteMode, includeRemoved = false, expect?: Precondition<ThumbnailWithUrls>): Promise<ThumbnailWithUrls> {
    const { type: newType, urls } = checkFields(body, mode);
    return transact(this.deps, typeTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_thumbnails', id }, () => findThumbnail(trx, id, includeRemoved), expect, async (row) => (await withUrls(trx, [row]))[0]!);
      const pornstarId = body.pornstar_id ?? existing.pornstar_id;
      if (pornstarId !== existing.pornstar_id && !(await findPornstar(trx, pornstarId, false))) throw unknownPornstar();
      const type = newType ?? existing.type;
      const moved = pornstarId !== existing.pornstar_id || type !== existing.type;
      const keep = mode === 'merge';
      await updateThumbnail(trx, id, {
        pornstar_id: pornstarId,
        type,
        source: moved ? 'api' : existing.source,
        width: body.width !== undefined ? body.width : keep ? existing.width : null,
        height: body.height !== undefined ? body.height : keep ? existing.height : null,
        updated_at: now,
      });
      if (urls) await claimImages(this.deps.images, trx, await replaceUrls(trx, id, urls, now));
      await touchBoth(trx, existing.pornstar_id, pornstarId, now);
      return (await withUrls(trx, [(await findThumbnail(trx, id, true))!]))[0]!;
    });
  }

  async destroy(id: number, includeRemoved = false, expect?: Precondition<ThumbnailWithUrls>): Promise<void> {
    await transact(this.deps, typeTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_thumbnails', id }, () => findThumbnail(trx, id, includeRemoved), expect, async (row) => (await withUrls(trx, [row]))[0]!);
      if ((await deleteThumbnails(trx, [id])) === 0) throw new NotFoundError();
      await touchPornstar(trx, existing.pornstar_id, now);
    });
  }
}


function checkFields(body: ThumbnailBodyData, mode: WriteMode): { type?: string; urls?: UrlInput[] } {
  const errors: FieldErrors = {};
  const type = body.type === undefined ? undefined : checkText(errors, 'type', body.type, 32);
  const urls = body.urls !== undefined || mode === 'replace' ? checkUrlList(errors, 'urls', body.urls ?? []) : undefined;
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return { type, urls };
}
