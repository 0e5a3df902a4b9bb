import type { Kysely } from 'kysely';
import { sha256Hex } from '../../platform/canonical-json.js';
import { BulkInsert } from '../../platform/db/bulk-insert.js';
import type { Executor } from '../../platform/db/database.js';
import { insertReturningId } from '../../platform/db/returning.js';
import { searchKey } from '../../platform/search-key.js';
import type { CatalogTables } from '../catalog.tables.js';
import type { NormalizedItem } from './feed-item.js';

const tables = (db: Executor) => db as Kysely<CatalogTables>;

export interface ExistingPornstar {
  id: number;
  content_hash: string | null;
  removed_at: number | null;
}

/** The stored hash of each of `externalIds` that exists, for change detection in batches. */
export async function findPornstarsByExternalIds(db: Executor, externalIds: string[]): Promise<Map<string, ExistingPornstar>> {
  if (externalIds.length === 0) return new Map();
  const rows = await tables(db).selectFrom('pornstars').select(['id', 'external_id', 'content_hash', 'removed_at']).where('external_id', 'in', externalIds).execute();
  return new Map(rows.map((row) => [row.external_id, row]));
}

function pornstarColumns(item: NormalizedItem, contentHash: string, now: number) {
  return {
    name: item.name,
    name_search: searchKey(item.name),
    link: item.link,
    license: item.license,
    wl_status: item.wlStatus ? 1 : 0,
    hair_color: item.hairColor,
    ethnicity: item.ethnicity,
    has_tattoos: item.hasTattoos === null ? null : item.hasTattoos ? 1 : 0,
    has_piercings: item.hasPiercings === null ? null : item.hasPiercings ? 1 : 0,
    breast_size: item.breastSize,
    breast_type: item.breastType,
    gender: item.gender,
    orientation: item.orientation,
    age: item.age,
    subscriptions: item.stats.subscriptions,
    monthly_searches: item.stats.monthlySearches,
    views: item.stats.views,
    videos_count: item.stats.videosCount,
    premium_videos_count: item.stats.premiumVideosCount,
    white_label_video_count: item.stats.whiteLabelVideoCount,
    rank: item.stats.rank,
    rank_premium: item.stats.rankPremium,
    rank_wl: item.stats.rankWl,
    content_hash: contentHash,
    removed_at: null,
    updated_at: now,
  };
}

/** Rewrites a changed pornstar from its feed item (and brings it back if it was removed). */
export async function updatePornstar(db: Executor, id: number, item: NormalizedItem, contentHash: string, now: number): Promise<void> {
  await tables(db).updateTable('pornstars').set(pornstarColumns(item, contentHash, now)).where('id', '=', id).execute();
}

const pornstarInsert = new BulkInsert<ReturnType<typeof newPornstarRow>, { id: number; external_id: string }>(
  'pornstars',
  [
    'external_id', 'name', 'name_search', 'link', 'license', 'wl_status', 'hair_color', 'ethnicity', 'has_tattoos', 'has_piercings', 'breast_size', 'breast_type', 'gender',
    'orientation', 'age', 'subscriptions', 'monthly_searches', 'views', 'videos_count', 'premium_videos_count', 'white_label_video_count', 'rank',
    'rank_premium', 'rank_wl', 'content_hash', 'removed_at', 'created_at', 'updated_at',
  ],
  { returning: ['id', 'external_id'], reselectBy: ['external_id'] },
);
type NewAliasRow = { pornstar_id: number; alias: string; alias_key: string; alias_search: string; created_at: number; updated_at: number };
const aliasInsert = new BulkInsert<NewAliasRow>('pornstar_aliases', ['pornstar_id', 'alias', 'alias_key', 'alias_search', 'created_at', 'updated_at']);

function aliasRow(pornstarId: number, alias: string, key: string, now: number): NewAliasRow {
  return { pornstar_id: pornstarId, alias, alias_key: key, alias_search: searchKey(alias), created_at: now, updated_at: now };
}
const thumbnailInsert = new BulkInsert<
  { pornstar_id: number; type: string; source: 'feed'; width: number | null; height: number | null; created_at: number; updated_at: number },
  { id: number; pornstar_id: number; type: string }
>('pornstar_thumbnails', ['pornstar_id', 'type', 'source', 'width', 'height', 'created_at', 'updated_at'], {
  returning: ['id', 'pornstar_id', 'type'],
  // Unique among the feed's own rows only: a pornstar may also have api thumbnails of the same type.
  reselectBy: ['pornstar_id', 'type', 'source'],
});
const thumbnailUrlInsert = new BulkInsert<{ thumbnail_id: number; url: string; url_hash: string; local_path: null; created_at: number; updated_at: number }>(
  'pornstar_thumbnail_urls',
  ['thumbnail_id', 'url', 'url_hash', 'local_path', 'created_at', 'updated_at'],
);

function newPornstarRow(item: NormalizedItem, contentHash: string, now: number) {
  return { ...pornstarColumns(item, contentHash, now), external_id: item.externalId, created_at: now };
}

/**
 * Inserts pornstars that do not exist yet, with their aliases, thumbnails and URLs, a few
 * multi-row statements for the whole batch: the first run of a feed is nearly all of this.
 */
export async function insertNewPornstars(db: Executor, items: Array<{ item: NormalizedItem; contentHash: string }>, now: number): Promise<void> {
  if (items.length === 0) return;
  const inserted = await pornstarInsert.insert(db, items.map(({ item, contentHash }) => newPornstarRow(item, contentHash, now)));
  const ids = new Map(inserted.map((row) => [row.external_id, row.id]));
  const idOf = (item: NormalizedItem) => ids.get(item.externalId)!;
  await aliasInsert.insert(
    db,
    items.flatMap(({ item }) => item.aliases.map((alias) => aliasRow(idOf(item), alias, alias.toLowerCase(), now))),
  );
  const thumbnails = await thumbnailInsert.insert(
    db,
    items.flatMap(({ item }) =>
      item.thumbnails.map((t) => ({ pornstar_id: idOf(item), type: t.type, source: 'feed' as const, width: t.width, height: t.height, created_at: now, updated_at: now })),
    ),
  );
  const thumbnailIds = new Map(thumbnails.map((row) => [`${row.pornstar_id}:${row.type}`, row.id]));
  // An item's thumbnails usually share one URL: hash each distinct URL once.
  const hashes = new Map<string, string>();
  const hashOf = (url: string) => hashes.get(url) ?? hashes.set(url, sha256Hex(url)).get(url)!;
  await thumbnailUrlInsert.insert(
    db,
    items.flatMap(({ item }) =>
      item.thumbnails.flatMap((t) =>
        t.urls.map((url) => ({ thumbnail_id: thumbnailIds.get(`${idOf(item)}:${t.type}`)!, url, url_hash: hashOf(url), local_path: null, created_at: now, updated_at: now })),
      ),
    ),
  );
}

/** Makes the pornstar's aliases exactly `aliases` (already trimmed and de-duplicated by key). */
export async function syncAliases(db: Executor, pornstarId: number, aliases: string[], now: number): Promise<void> {
  const wanted = new Map(aliases.map((alias) => [alias.toLowerCase(), alias]));
  const existing = await tables(db).selectFrom('pornstar_aliases').select(['id', 'alias', 'alias_key']).where('pornstar_id', '=', pornstarId).execute();
  const stale = existing.filter((row) => !wanted.has(row.alias_key)).map((row) => row.id);
  if (stale.length > 0) await tables(db).deleteFrom('pornstar_aliases').where('id', 'in', stale).execute();
  for (const row of existing) {
    const spelling = wanted.get(row.alias_key);
    if (spelling !== undefined && spelling !== row.alias) {
      await tables(db).updateTable('pornstar_aliases').set({ alias: spelling, alias_search: searchKey(spelling), updated_at: now }).where('id', '=', row.id).execute();
    }
  }
  const known = new Set(existing.map((row) => row.alias_key));
  const added = [...wanted].filter(([key]) => !known.has(key)).map(([key, alias]) => aliasRow(pornstarId, alias, key, now));
  if (added.length > 0) await tables(db).insertInto('pornstar_aliases').values(added).execute();
}

/**
 * Makes the pornstar's feed thumbnails (`source = 'feed'`) exactly `thumbnails`, one per type, each
 * with exactly its URLs. Thumbnails made through the API are left as they are.
 */
export async function syncThumbnails(db: Executor, pornstarId: number, thumbnails: NormalizedItem['thumbnails'], now: number): Promise<void> {
  const existing = await tables(db)
    .selectFrom('pornstar_thumbnails')
    .select(['id', 'type', 'width', 'height'])
    .where('pornstar_id', '=', pornstarId)
    .where('source', '=', 'feed')
    .execute();
  const wantedTypes = new Set(thumbnails.map((t) => t.type));
  const stale = existing.filter((row) => !wantedTypes.has(row.type)).map((row) => row.id);
  if (stale.length > 0) await tables(db).deleteFrom('pornstar_thumbnails').where('id', 'in', stale).execute();
  const byType = new Map(existing.map((row) => [row.type, row]));
  for (const thumbnail of thumbnails) {
    let row = byType.get(thumbnail.type);
    if (!row) {
      const values = { pornstar_id: pornstarId, type: thumbnail.type, source: 'feed', width: thumbnail.width, height: thumbnail.height, created_at: now, updated_at: now };
      row = { id: await insertReturningId(db, 'pornstar_thumbnails', values), type: thumbnail.type, width: thumbnail.width, height: thumbnail.height };
    } else if (row.width !== thumbnail.width || row.height !== thumbnail.height) {
      await tables(db).updateTable('pornstar_thumbnails').set({ width: thumbnail.width, height: thumbnail.height, updated_at: now }).where('id', '=', row.id).execute();
    }
    await syncThumbnailUrls(db, row.id, thumbnail.urls, now);
  }
}

async function syncThumbnailUrls(db: Executor, thumbnailId: number, urls: string[], now: number): Promise<void> {
  const existing = await tables(db).selectFrom('pornstar_thumbnail_urls').select(['id', 'url']).where('thumbnail_id', '=', thumbnailId).execute();
  const wanted = new Set(urls);
  const stale = existing.filter((row) => !wanted.has(row.url)).map((row) => row.id);
  if (stale.length > 0) await tables(db).deleteFrom('pornstar_thumbnail_urls').where('id', 'in', stale).execute();
  const known = new Set(existing.map((row) => row.url));
  const added = urls.filter((url) => !known.has(url)).map((url) => ({ thumbnail_id: thumbnailId, url, url_hash: sha256Hex(url), local_path: null, created_at: now, updated_at: now }));
  if (added.length > 0) await tables(db).insertInto('pornstar_thumbnail_urls').values(added).execute();
}

/** Active (not removed) pornstars after `afterId`, in id order, for the removal pass. */
export function listActivePornstars(db: Executor, afterId: number, limit: number): Promise<Array<{ id: number; external_id: string }>> {
  return tables(db)
    .selectFrom('pornstars')
    .select(['id', 'external_id'])
    .where('removed_at', 'is', null)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function markPornstarsRemoved(db: Executor, ids: number[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).updateTable('pornstars').set({ removed_at: now, updated_at: now }).where('id', 'in', ids).where('removed_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
