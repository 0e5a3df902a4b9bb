import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import type { CatalogTables, FeedRunChange } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

export interface FeedRunChangeRow {
  pornstar_id: number;
  external_id: string;
  change: FeedRunChange;
  content_hash: string | null;
}

/** A page of what run `runId` changed, by pornstar id. */
export async function listFeedRunChanges(db: Executor, runId: number, limit: number, offset: number): Promise<FeedRunChangeRow[]> {
  const rows = await tables(db)
    .selectFrom('feed_run_changes')
    .select(['pornstar_id', 'external_id', 'change', 'content_hash'])
    .where('run_id', '=', runId)
    .orderBy('pornstar_id')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map((row) => ({ ...row, pornstar_id: Number(row.pornstar_id) }));
}

export async function countFeedRunChanges(db: Executor, runId: number): Promise<number> {
  const row = await tables(db)
    .selectFrom('feed_run_changes')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('run_id', '=', runId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function feedRunExists(db: Executor, runId: number): Promise<boolean> {
  return (await tables(db).selectFrom('feed_runs').select('id').where('id', '=', runId).executeTakeFirst()) !== undefined;
}
