import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Database, Executor } from '../../platform/db/database.js';
import { enqueueJobs } from '../../platform/queue/jobs.js';
import type { TransactionalQueue } from '../../platform/queue/queue.js';
import type { ImageRow, ImageStatus } from '../catalog.tables.js';
import { imageRelativePath } from './image-files.js';
import { imageDownloadJob } from './images.jobs.js';
import { claimImages, countImagesByStatus, findImagesByUrlHashes, listFailedImages, resetFailedImages, urlHash } from './images.repository.js';
import { countCatalogChange } from '../catalog-versions.repository.js';

export interface ImagesServiceDeps {
  database: Database;
  queue: TransactionalQueue;
  clock: Clock;
  logger: Logger;
}

export interface ImagesStats {
  total: number;
  byStatus: Record<ImageStatus, number>;
  /** Sum of the cached images' sizes (identical content from several URLs counts once per URL). */
  cachedBytes: number;
  /** Download jobs by state. */
  jobs: { ready: number; delayed: number; active: number; parked: number };
}

export interface RetryFailedResult {
  /** Failed images put back to `pending`. */
  images: number;
  /** Parked download jobs moved back to the queue. */
  parkedJobs: number;
}

/** How the API shows one image: joined to a thumbnail URL by `url_hash`. */
export interface ImageView {
  image_status: ImageStatus | null;
  local_path: string | null;
  cached_url: string | null;
}

export class ImagesService {
  constructor(private readonly deps: ImagesServiceDeps) {}

  /**
   * Claims every URL not seen before and enqueues its download in the caller's transaction, so
   * the rows and their jobs commit together. Only the claim that created a row enqueues: a URL
   * already pending, cached or failed is never enqueued again. Returns how many were enqueued.
   */
  async claim(trx: Executor, urls: readonly string[]): Promise<number> {
    const images = [...new Set(urls)].filter((url) => url !== '').map((url) => ({ url, url_hash: urlHash(url) }));
    const now = this.deps.clock.now();
    const claimed = await claimImages(trx, this.deps.database.dialect, images, now);
    await this.enqueueDownloads(trx, claimed);
    // A URL the catalog shows already changes its image_status from none to pending.
    if (claimed.length > 0) await countCatalogChange(trx, now);
    return claimed.length;
  }

  private enqueueDownloads(trx: Executor, hashes: readonly string[]): Promise<void> {
    return enqueueJobs(this.deps.queue, imageDownloadJob, hashes.map((hash) => ({ payload: { urlHash: hash }, options: { dedupeKey: hash } })), trx);
  }

  async stats(): Promise<ImagesStats> {
    const byStatus: Record<ImageStatus, number> = { pending: 0, cached: 0, failed: 0 };
    let cachedBytes = 0;
    for (const row of await countImagesByStatus(this.deps.database.db)) {
      byStatus[row.status] = row.count;
      if (row.status === 'cached') cachedBytes = row.bytes;
    }
    const { counts } = await this.deps.queue.stats(imageDownloadJob.queue);
    return { total: byStatus.pending + byStatus.cached + byStatus.failed, byStatus, cachedBytes, jobs: counts };
  }

  listFailed(limit = 50, offset = 0): Promise<ImageRow[]> {
    return listFailedImages(this.deps.database.db, limit, offset);
  }

  /**
   * Re-drives every failed download: the rows go back to `pending` with a fresh job each. Where a
   * parked job still holds the URL's dedupe key, the enqueue is a no-op and the parked job is moved
   * back instead, with fresh attempts.
   */
  async retryFailed(): Promise<RetryFailedResult> {
    const images = await this.deps.database.transaction(async (trx) => {
      const now = this.deps.clock.now();
      const hashes = await resetFailedImages(trx, now);
      await this.enqueueDownloads(trx, hashes);
      if (hashes.length > 0) await countCatalogChange(trx, now);
      return hashes.length;
    });
    const parkedJobs = await this.deps.queue.retryParked(imageDownloadJob.queue, 'all');
    if (images > 0 || parkedJobs > 0) this.deps.logger.info({ images, parkedJobs }, 'failed image downloads re-driven');
    return { images, parkedJobs };
  }

  /** Image state for the given source URLs, by URL. */
  async viewsFor(urls: readonly string[], baseUrl: string): Promise<Map<string, ImageView>> {
    const rows = await findImagesByUrlHashes(this.deps.database.db, urls.map(urlHash));
    const byHash = new Map(rows.map((r) => [r.url_hash, r]));
    return new Map(urls.map((url) => [url, imageView(byHash.get(urlHash(url)), baseUrl)]));
  }

  cachedUrl(sha256: string, ext: string, baseUrl: string): string {
    return cachedImageUrl(sha256, ext, baseUrl);
  }
}

/** The absolute URL of `GET /images/<sha256>.<ext>`. */
export function cachedImageUrl(sha256: string, ext: string, baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/images/${sha256}.${ext}`;
}

/** One resized copy of a cached image, as `srcset` lists it (`<url> <width>w`). */
export interface ImageVariantLink {
  width: number;
  url: string;
}

/** The variants of a cached image, one per IMAGE_VARIANT_WIDTHS: `?w=` without `format`, so that each client's `Accept` picks the format. */
export function variantLinks(cachedUrl: string, widths: readonly number[]): ImageVariantLink[] {
  return widths.map((width) => ({ width, url: `${cachedUrl}?w=${width}` }));
}

/** The API's view of an `images` row (or of none: a URL never claimed). */
export function imageView(row: Pick<ImageRow, 'status' | 'sha256' | 'ext'> | undefined, baseUrl: string): ImageView {
  if (!row) return { image_status: null, local_path: null, cached_url: null };
  const cached = row.status === 'cached' && row.sha256 !== null && row.ext !== null;
  return {
    image_status: row.status,
    local_path: cached ? `images/${imageRelativePath(row.sha256!, row.ext!)}` : null,
    cached_url: cached ? cachedImageUrl(row.sha256!, row.ext!, baseUrl) : null,
  };
}
