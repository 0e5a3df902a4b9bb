import { sha256Hex } from '../../platform/canonical-json.js';
import type { Dialect, Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { BulkInsert } from '../../platform/db/bulk-insert.js';
import { param, prepareQuery } from '../../platform/db/prepared-query.js';
import type { CatalogTables, ImageRow, ImageStatus } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

/** The key of an image: sha256 hex of its source URL (also `pornstar_thumbnail_urls.url_hash`). */
export function urlHash(url: string): string {
  return sha256Hex(url);
}

/** `urlHash` that hashes each distinct URL once: a feed item's thumbnails usually share one URL. */
export function memoizedUrlHash(): (url: string) => string {
  const hashes = new Map<string, string>();
  return (url) => hashes.get(url) ?? hashes.set(url, urlHash(url)).get(url)!;
}

interface ClaimParams extends Record<string, unknown> {
  url: string;
  url_hash: string;
  now: number;
}

const claimValues = (db: Executor) =>
  tables(db)
    .insertInto('images')
    .values({
      url: param('url'),
      url_hash: param('url_hash'),
      status: 'pending',
      created_at: param('now'),
      updated_at: param('now'),
    });

const claimQuery = prepareQuery<ClaimParams, never>((db) => claimValues(db).onConflict((oc) => oc.column('url_hash').doNothing()));
const claimIgnoringDuplicateQuery = prepareQuery<ClaimParams, never>((db) => claimValues(db).ignore());

/**
 * Inserts a `pending` row unless the URL has one; true only for the call whose insert created it.
 * The unique index decides, so concurrent claimers cannot both win (no check-then-put).
 */
async function claimImage(db: Executor, dialect: Dialect, url: string, hash: string, now: number): Promise<boolean> {
  const query = dialect === 'mysql' ? claimIgnoringDuplicateQuery : claimQuery;
  const result = await query.execute(db, { url, url_hash: hash, now });
  return Number(result.numAffectedRows ?? 0) > 0;
}

type PendingImageRow = { url: string; url_hash: string; status: 'pending'; created_at: number; updated_at: number };

const claimManyInsert = new BulkInsert<PendingImageRow, { url_hash: string }>('images', ['url', 'url_hash', 'status', 'created_at', 'updated_at'], {
  returning: ['url_hash'],
  skipConflictsOn: ['url_hash'],
  maxRows: 64,
});

/** `claimImage` for many URLs at once; resolves to the hashes whose rows this call created. */
export async function claimImages(db: Executor, dialect: Dialect, images: ReadonlyArray<{ url: string; url_hash: string }>, now: number): Promise<string[]> {
  if (dialect === 'mysql') {
    const claimed: string[] = [];
    // One order of row locks for every claimer, so that two concurrent claims wait instead of deadlocking.
    const byHash = [...images].sort((a, b) => (a.url_hash < b.url_hash ? -1 : a.url_hash > b.url_hash ? 1 : 0));
    for (const image of byHash) if (await claimImage(db, dialect, image.url, image.url_hash, now)) claimed.push(image.url_hash);
    return claimed;
  }
  const rows = await claimManyInsert.insert(db, images.map(({ url, url_hash }) => ({ url, url_hash, status: 'pending' as const, created_at: now, updated_at: now })));
  return rows.map((row) => row.url_hash);
}

const findByHashQuery = prepareQuery<{ url_hash: string }, ImageRow>((db) =>
  tables(db).selectFrom('images').selectAll().where('url_hash', '=', param<string>('url_hash')),
);

/** Read by every download job: prepared once. */
export function findImageByUrlHash(db: Executor, hash: string): Promise<ImageRow | undefined> {
  return findByHashQuery.first(db, { url_hash: hash });
}

const CHUNK = 500;

/** For joining thumbnail URLs to their image state. */
export async function findImagesByUrlHashes(db: Executor, hashes: readonly string[]): Promise<ImageRow[]> {
  const unique = [...new Set(hashes)];
  const rows: ImageRow[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) {
    rows.push(...(await tables(db).selectFrom('images').selectAll().where('url_hash', 'in', unique.slice(i, i + CHUNK)).execute()));
  }
  return rows;
}

export interface CachedImage extends Record<string, unknown> {
  url_hash: string;
  sha256: string;
  ext: string;
  content_type: string;
  bytes: number;
  attempts: number;
  fetched_at: number;
}

const markCachedQuery = prepareQuery<CachedImage, never>((db) =>
  tables(db)
    .updateTable('images')
    .set({
      status: 'cached',
      sha256: param('sha256'),
      ext: param('ext'),
      content_type: param('content_type'),
      bytes: param('bytes'),
      attempts: param('attempts'),
      last_error: null,
      fetched_at: param('fetched_at'),
      updated_at: param('fetched_at'),
      state_seq: null,
    })
    .where('url_hash', '=', param<string>('url_hash')),
);

/** Once per downloaded image: prepared once. */
export async function markImageCached(db: Executor, image: CachedImage): Promise<void> {
  await markCachedQuery.execute(db, image);
}

export interface ImageFailure extends Record<string, unknown> {
  url_hash: string;
  /** `pending` while retries remain, `failed` once the download gave up. */
  status: Exclude<ImageStatus, 'cached'>;
  last_error: string;
  attempts: number;
  now: number;
}

const recordFailureQuery = prepareQuery<ImageFailure, never>((db) =>
  tables(db)
    .updateTable('images')
    .set({ status: param('status'), last_error: param('last_error'), attempts: param('attempts'), updated_at: param('now'), state_seq: null })
    .where('url_hash', '=', param<string>('url_hash'))
    .where('status', '!=', 'cached'),
);

/** Records a failed attempt; an image that is already cached stays cached. True when a row changed. */
export async function recordImageFailure(db: Executor, failure: ImageFailure): Promise<boolean> {
  const result = await recordFailureQuery.execute(db, { ...failure, last_error: failure.last_error.slice(0, 2000) });
  return Number(result.numAffectedRows ?? 0) > 0;
}

export interface ImageStatusCount {
  status: ImageStatus;
  count: number;
  bytes: number;
}

export async function countImagesByStatus(db: Executor): Promise<ImageStatusCount[]> {
  const rows = await tables(db)
    .selectFrom('images')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count'), eb.fn.sum<number | null>('bytes').as('bytes')])
    .groupBy('status')
    .execute();
  return rows.map((r) => ({ status: r.status, count: Number(r.count), bytes: Number(r.bytes ?? 0) }));
}

export function listFailedImages(db: Executor, limit: number, offset = 0): Promise<ImageRow[]> {
  return tables(db).selectFrom('images').selectAll().where('status', '=', 'failed').orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
}

/** Puts every failed image back to `pending` and returns their URL hashes. Run it in a transaction. */
export async function resetFailedImages(trx: Executor, now: number): Promise<string[]> {
  const rows = await tables(trx).selectFrom('images').select('url_hash').where('status', '=', 'failed').execute();
  if (rows.length === 0) return [];
  await tables(trx).updateTable('images').set({ status: 'pending', last_error: null, attempts: 0, updated_at: now, state_seq: null }).where('status', '=', 'failed').execute();
  return rows.map((r) => r.url_hash);
}
