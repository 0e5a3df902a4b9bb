/** A cached image in a benchmarked SQLite catalog, for the benches that run no image worker. */
import { createHash } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import sharp from 'sharp';
import { DiskImageStore } from '../../src/catalog/images/disk-image-store.js';
import { imageRelativePath } from '../../src/catalog/images/image-files.js';

export interface SeededImage {
  url: string;
  sha256: string;
  bytes: number;
}

/**
 * A 1280×720 photo-like JPEG (coarse noise, upscaled, so that detail survives resizing: its
 * 320-wide WebP weighs about 10 KB, as a photo's does) stored as the download pipeline stores it, and the `images` row of the catalog's first thumbnail URL
 * marked cached with it, as a download would. Call it while no intake process runs: the API
 * reads the row afterwards, at a catalog version of its own.
 */
export async function seedCachedImage(dataDir: string, dbFile: string): Promise<SeededImage> {
  const coarse = await sharp({ create: { width: 320, height: 180, channels: 3, background: '#b07050', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
    .png()
    .toBuffer();
  const photo = await sharp(coarse).resize({ width: 1280 }).jpeg({ quality: 85 }).toBuffer();
  const sha256 = createHash('sha256').update(photo).digest('hex');
  await new DiskImageStore(dataDir).put(imageRelativePath(sha256, 'jpg'), photo, { bytes: photo.length });

  const db = new Sqlite(dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const first = db.prepare('select url, url_hash from pornstar_thumbnail_urls order by id limit 1').get() as { url: string; url_hash: string } | undefined;
    if (!first) throw new Error('the catalog has no thumbnail URL to cache an image for');
    const now = Date.now();
    const updated = db
      .prepare("update images set status = 'cached', sha256 = ?, ext = 'jpg', content_type = 'image/jpeg', bytes = ?, last_error = null, attempts = 1, fetched_at = ?, updated_at = ? where url_hash = ?")
      .run(sha256, photo.length, now, now, first.url_hash);
    if (updated.changes !== 1) throw new Error(`no images row for ${first.url}: the ingest claims every thumbnail URL`);
    return { url: first.url, sha256, bytes: photo.length };
  } finally {
    db.close();
  }
}
