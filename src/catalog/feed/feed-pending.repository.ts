import { BulkInsert } from '../../platform/db/bulk-insert.js';
import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { searchKey } from '../../platform/search-key.js';
import type { CatalogTables } from '../catalog.tables.js';
import { memoizedUrlHash } from '../images/images.repository.js';
import { aliasKey, type NormalizedItem } from './feed-item.js';
import { pornstarColumns } from './feed.repository.js';

const tables = tablesOf<CatalogTables>();

function newPornstarRow(runId: number, item: NormalizedItem, contentHash: string, now: number) {
  return { ...pornstarColumns(item, contentHash, now), external_id: item.externalId, pending_run_id: runId, created_at: now };
}

const pornstarInsert = new BulkInsert<ReturnType<typeof newPornstarRow>, { id: number; external_id: string }>(
  'pornstars',
  [
    'external_id', 'name', 'name_search', 'link', 'license', 'wl_status', 'hair_color', 'ethnicity', 'has_tattoos', 'has_piercings', 'breast_size', 'breast_type', 'gender',
    'orientation', 'age', 'subscriptions', 'monthly_searches', 'views', 'videos_count', 'premium_videos_count', 'white_label_video_count', 'rank',
    'rank_premium', 'rank_wl', 'content_hash', 'children_hash', 'removed_at', 'pending_run_id', 'created_at', 'updated_at',
  ],
  { returning: ['id', 'external_id'], reselectBy: ['external_id'] },
);
type NewAliasRow = { pornstar_id: number; alias: string; alias_key: string; alias_search: string; created_at: number; updated_at: number };
const aliasInsert = new BulkInsert<NewAliasRow>('pornstar_aliases', ['pornstar_id', 'alias', 'alias_key', 'alias_search', 'created_at', 'updated_at']);
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

/**
 * Inserts pornstars that do not exist yet, with their aliases, thumbnails and URLs, a few
 * multi-row statements for the whole batch, pending for `runId`: hidden from every reader until
 * {@link publishPending}. The first run of a feed is nearly all of this.
 */
export async function insertPendingPornstars(db: Executor, runId: number, items: ReadonlyArray<{ item: NormalizedItem; contentHash: string }>, now: number): Promise<void> {
  if (items.length === 0) return;
  const inserted = await pornstarInsert.insert(db, items.map(({ item, contentHash }) => newPornstarRow(runId, item, contentHash, now)));
  const ids = new Map(inserted.map((row) => [row.external_id, row.id]));
  const idOf = (item: NormalizedItem) => ids.get(item.externalId)!;
  await aliasInsert.insert(
    db,
    items.flatMap(({ item }) =>
      item.aliases.map((alias) => ({ pornstar_id: idOf(item), alias, alias_key: aliasKey(alias), alias_search: searchKey(alias), created_at: now, updated_at: now })),
    ),
  );
  const thumbnails = await thumbnailInsert.insert(
    db,
    items.flatMap(({ item }) =>
      item.thumbnails.map((t) => ({ pornstar_id: idOf(item), type: t.type, source: 'feed' as const, width: t.width, height: t.height, created_at: now, updated_at: now })),
    ),
  );
  const thumbnailIds = new Map(thumbnails.map((row) => [`${row.pornstar_id}:${row.type}`, row.id]));
  const hashOf = memoizedUrlHash();
  await thumbnailUrlInsert.insert(
    db,
    items.flatMap(({ item }) =>
      item.thumbnails.flatMap((t) =>
        t.urls.map((url) => ({ thumbnail_id: thumbnailIds.get(`${idOf(item)}:${t.type}`)!, url, url_hash: hashOf(url), local_path: null, created_at: now, updated_at: now })),
      ),
    ),
  );
}

/** Shows the pornstars `runId` inserted (and so their aliases, thumbnails and URLs) to every reader, as the change `changeSeq`. */
export async function publishPending(db: Executor, runId: number, changeSeq: number): Promise<void> {
  await tables(db).updateTable('pornstars').set({ pending_run_id: null, change_seq: changeSeq }).where('pending_run_id', '=', runId).execute();
}

/** Pending pornstars of `runId` after `afterId`, in id order. */
export async function pendingPornstarIds(db: Executor, runId: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await tables(db).selectFrom('pornstars').select('id').where('pending_run_id', '=', runId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
  return rows.map((row) => Number(row.id));
}

/** The image URLs of the feed thumbnails of `pornstarIds` that no `images` row claims yet. */
export async function unclaimedUrlsOf(db: Executor, pornstarIds: readonly number[]): Promise<string[]> {
  if (pornstarIds.length === 0) return [];
  const rows = await tables(db)
    .selectFrom('pornstar_thumbnail_urls as u')
    .innerJoin('pornstar_thumbnails as t', 't.id', 'u.thumbnail_id')
    .select('u.url')
    .distinct()
    .where('t.pornstar_id', 'in', pornstarIds)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('images as i').select('i.id').whereRef('i.url_hash', '=', 'u.url_hash'))))
    .execute();
  return rows.map((row) => row.url);
}

/**
 * Deletes the pending pornstars of runs that never finished (their children go with them, ON
 * DELETE CASCADE), a batch per statement so that no transaction is long. Under the feed's lease.
 */
export async function deleteAbandonedPending(db: Executor, batch = 500): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = (await tables(db).selectFrom('pornstars').select('id').where('pending_run_id', 'is not', null).limit(batch).execute()).map((row) => Number(row.id));
    if (ids.length === 0) return deleted;
    deleted += Number((await tables(db).deleteFrom('pornstars').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
  }
}
