import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { searchKey } from '../../platform/search-key.js';
import type { CatalogTables } from '../catalog.tables.js';
import { childrenHash, type NormalizedItem } from './feed-item.js';

const tables = tablesOf<CatalogTables>();

export interface ExistingPornstar {
  id: number;
  content_hash: string | null;
  children_hash: string | null;
  removed_at: number | null;
}

/** The stored hash of each of `externalIds` that exists, for change detection in batches. */
export async function findPornstarsByExternalIds(db: Executor, externalIds: string[]): Promise<Map<string, ExistingPornstar>> {
  if (externalIds.length === 0) return new Map();
  const rows = await tables(db).selectFrom('pornstars').select(['id', 'external_id', 'content_hash', 'children_hash', 'removed_at']).where('external_id', 'in', externalIds).execute();
  return new Map(rows.map((row) => [row.external_id, row]));
}

/** The columns of a pornstar that its feed item sets. */
export function pornstarColumns(item: NormalizedItem, contentHash: string, now: number) {
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
    children_hash: childrenHash(item),
    removed_at: null,
    updated_at: now,
  };
}

export type PornstarColumns = ReturnType<typeof pornstarColumns>;

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

export async function markPornstarsRemoved(db: Executor, ids: number[], now: number, changeSeq: number): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db)
    .updateTable('pornstars')
    .set({ removed_at: now, updated_at: now, change_seq: changeSeq })
    .where('id', 'in', ids)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
