import { NotFoundError, ValidationError } from '../../platform/errors/domain-errors.js';
import type { FieldErrors } from '../../platform/errors/field-errors.js';
import { offsetOf, type PageRequest } from '../../platform/http/pagination.js';
import { sha256Hex } from '../../platform/canonical-json.js';
import { checkUrl, optionalText, type WriteMode } from './catalog.input.js';
import { claimImages, rowToWrite, touchBoth, transact, urlRow, type CatalogServiceDeps, type Precondition } from './catalog.sync.js';
import { touchPornstar } from './pornstars.repository.js';
import {
  countThumbnailUrls,
  deleteThumbnailUrls,
  findThumbnailUrl,
  findThumbnailUrlIdByUrl,
  insertThumbnailUrl,
  listThumbnailUrls,
  updateThumbnailUrl,
  type ThumbnailUrlFilter,
  type ThumbnailUrlWithImage,
} from './thumbnail-urls.repository.js';
import type { ThumbnailUrlBodyData } from './thumbnail-urls.schemas.js';
import { findThumbnail } from './thumbnails.repository.js';

const urlTaken = () => new ValidationError({ url: ['The url has already been taken.'] });
const unknownThumbnail = () => new ValidationError({ thumbnail_id: ['The selected thumbnail_id is invalid.'] });

export class ThumbnailUrlsService {
  constructor(private readonly deps: CatalogServiceDeps) {}

  async list(filter: ThumbnailUrlFilter, page: PageRequest): Promise<{ items: ThumbnailUrlWithImage[]; total: number }> {
    // A listing may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [items, total] = await Promise.all([listThumbnailUrls(db, filter, page.perPage, offsetOf(page)), countThumbnailUrls(db, filter)]);
      return { items, total };
    });
  }

  async get(id: number, includeRemoved = false): Promise<ThumbnailUrlWithImage> {
    const row = await findThumbnailUrl(this.deps.database.db, id, includeRemoved);
    if (!row) throw new NotFoundError();
    return row;
  }

  /** The URL row and the claim of its image: one transaction. */
  async create(body: ThumbnailUrlBodyData): Promise<ThumbnailUrlWithImage> {
    const url = checkedUrl(body.url!);
    const thumbnailId = body.thumbnail_id!;
    return transact(this.deps, urlTaken, async (trx, now) => {
      const thumbnail = await findThumbnail(trx, thumbnailId, false);
      if (!thumbnail) throw unknownThumbnail();
      if ((await findThumbnailUrlIdByUrl(trx, thumbnailId, url)) !== undefined) throw urlTaken();
      const row = await insertThumbnailUrl(trx, urlRow(thumbnailId, { url, local_path: optionalText(body.local_path) ?? null }, now));
      await claimImages(this.deps.images, trx, [url]);
      await touchPornstar(trx, thumbnail.pornstar_id, now);
      return (await findThumbnailUrl(trx, row.id, true))!;
    });
  }

  /** PUT (`replace`: a local_path left out becomes null) or PATCH (`merge`); a new URL is claimed. */
  async update(id: number, body: ThumbnailUrlBodyData, mode: WriteMode, includeRemoved = false, expect?: Precondition<ThumbnailUrlWithImage>): Promise<ThumbnailUrlWithImage> {
    const newUrl = body.url === undefined ? undefined : checkedUrl(body.url);
    return transact(this.deps, urlTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_thumbnail_urls', id }, () => findThumbnailUrl(trx, id, includeRemoved), expect, (row) => row);
      const before = (await findThumbnail(trx, existing.thumbnail_id, true))!;
      const thumbnailId = body.thumbnail_id ?? existing.thumbnail_id;
      const after = thumbnailId === before.id ? before : await findThumbnail(trx, thumbnailId, false);
      if (!after) throw unknownThumbnail();
      const url = newUrl ?? existing.url;
      const other = await findThumbnailUrlIdByUrl(trx, thumbnailId, url);
      if (other !== undefined && other !== id) throw urlTaken();
      const localPath = body.local_path !== undefined ? (optionalText(body.local_path) ?? null) : mode === 'merge' ? existing.local_path : null;
      await updateThumbnailUrl(trx, id, { thumbnail_id: thumbnailId, url, url_hash: sha256Hex(url), local_path: localPath, updated_at: now });
      if (url !== existing.url) await claimImages(this.deps.images, trx, [url]);
      await touchBoth(trx, before.pornstar_id, after.pornstar_id, now);
      return (await findThumbnailUrl(trx, id, true))!;
    });
  }

  async destroy(id: number, includeRemoved = false, expect?: Precondition<ThumbnailUrlWithImage>): Promise<void> {
    await transact(this.deps, urlTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_thumbnail_urls', id }, () => findThumbnailUrl(trx, id, includeRemoved), expect, (row) => row);
      if ((await deleteThumbnailUrls(trx, [id])) === 0) throw new NotFoundError();
      const thumbnail = await findThumbnail(trx, existing.thumbnail_id, true);
      if (thumbnail) await touchPornstar(trx, thumbnail.pornstar_id, now);
    });
  }
}


function checkedUrl(value: string): string {
  const errors: FieldErrors = {};
  const url = checkUrl(errors, 'url', value);
  if (url === undefined) throw new ValidationError(errors);
  return url;
}
