import { sql } from 'kysely';
import { BulkInsert } from '../../platform/db/bulk-insert.js';
import type { Executor } from '../../platform/db/database.js';
import { executorDialect } from '../../platform/db/executor-dialect.js';
import { tablesOf } from '../../platform/db/tables.js';
import { searchKey } from '../../platform/search-key.js';
import { memoizedUrlHash } from '../images/images.repository.js';
import { aliasKey, type NormalizedItem } from './feed-item.js';
import { pornstarColumns, type PornstarColumns } from './feed.repository.js';

/** An item the run changes: `existingId` is its pornstar; `childrenChanged` when its aliases or thumbnails differ from the stored ones. */
export interface StagedItem {
  item: NormalizedItem;
  contentHash: string;
  existingId: number;
  childrenChanged: boolean;
}

export const STAGE_TABLES = ['feed_stage_pornstars', 'feed_stage_aliases', 'feed_stage_thumbnails', 'feed_stage_thumbnail_urls'] as const;

type StagedPornstarRow = Omit<PornstarColumns, 'removed_at' | 'updated_at'> & { external_id: string; pornstar_id: number; children_changed: number; staged_at: number };
const pornstarStage = new BulkInsert<StagedPornstarRow>('feed_stage_pornstars', [
  'external_id', 'pornstar_id', 'name', 'name_search', 'link', 'license', 'wl_status', 'hair_color', 'ethnicity', 'has_tattoos', 'has_piercings',
  'breast_size', 'breast_type', 'gender', 'orientation', 'age', 'subscriptions', 'monthly_searches', 'views', 'videos_count', 'premium_videos_count',
  'white_label_video_count', 'rank', 'rank_premium', 'rank_wl', 'content_hash', 'children_hash', 'children_changed', 'staged_at',
]);
type StagedAliasRow = { external_id: string; alias: string; alias_key: string; alias_search: string };
const aliasStage = new BulkInsert<StagedAliasRow>('feed_stage_aliases', ['external_id', 'alias', 'alias_key', 'alias_search']);
type StagedThumbnailRow = { external_id: string; type: string; width: number | null; height: number | null };
const thumbnailStage = new BulkInsert<StagedThumbnailRow>('feed_stage_thumbnails', ['external_id', 'type', 'width', 'height']);
type StagedUrlRow = { external_id: string; type: string; url: string; url_hash: string };
const urlStage = new BulkInsert<StagedUrlRow>('feed_stage_thumbnail_urls', ['external_id', 'type', 'url', 'url_hash']);

type StageTables = { feed_stage_thumbnail_urls: StagedUrlRow & { id: number }; images: { id: number; url_hash: string } };
const stageTables = tablesOf<StageTables>();

/** Writes `items` to the stage: the catalog does not change. */
export async function stageItems(db: Executor, items: readonly StagedItem[], now: number): Promise<void> {
  if (items.length === 0) return;
  await pornstarStage.insert(
    db,
    items.map(({ item, contentHash, existingId, childrenChanged }) => {
      const { removed_at: _removed, updated_at: _updated, ...columns } = pornstarColumns(item, contentHash, now);
      return { ...columns, external_id: item.externalId, pornstar_id: existingId, children_changed: childrenChanged ? 1 : 0, staged_at: now };
    }),
  );
  const withChildren = items.filter((staged) => staged.childrenChanged);
  await aliasStage.insert(
    db,
    withChildren.flatMap(({ item }) => item.aliases.map((alias) => ({ external_id: item.externalId, alias, alias_key: aliasKey(alias), alias_search: searchKey(alias) }))),
  );
  await thumbnailStage.insert(
    db,
    withChildren.flatMap(({ item }) => item.thumbnails.map((t) => ({ external_id: item.externalId, type: t.type, width: t.width, height: t.height }))),
  );
  const hashOf = memoizedUrlHash();
  await urlStage.insert(
    db,
    withChildren.flatMap(({ item }) => item.thumbnails.flatMap((t) => t.urls.map((url) => ({ external_id: item.externalId, type: t.type, url, url_hash: hashOf(url) })))),
  );
}

/** The staged image URLs that no `images` row claims yet, in pages by stage id. */
export async function unclaimedStagedUrls(db: Executor, afterId: number, limit: number): Promise<Array<{ id: number; url: string }>> {
  const rows = await stageTables(db)
    .selectFrom('feed_stage_thumbnail_urls as su')
    .select(['su.id', 'su.url'])
    .where('su.id', '>', afterId)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('images as i').select('i.id').whereRef('i.url_hash', '=', 'su.url_hash'))))
    .orderBy('su.id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: Number(row.id), url: String(row.url) }));
}

/** Empties the stage (under the feed's lease, so that no run is using it). */
export async function clearStage(db: Executor): Promise<void> {
  const dialect = executorDialect(db);
  for (const table of STAGE_TABLES) {
    // SQLite empties a table without WHERE in one step; the others do it with TRUNCATE.
    if (dialect === 'sqlite') await sql`delete from ${sql.table(table)}`.execute(db);
    else await sql`truncate table ${sql.table(table)}`.execute(db);
  }
}
