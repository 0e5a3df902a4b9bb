import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { CATALOG_VERSION_SHARDS } from '../platform/db/migrations/017-catalog-reads.js';
import { prepareQuery } from '../platform/db/prepared-query.js';
import { tablesOf } from '../platform/db/tables.js';
import type { CatalogTables } from './catalog.tables.js';

const tables = tablesOf<CatalogTables>();

/**
 * This process's shard of the counter. One per process, not per write: the writes that group
 * commit puts in one transaction then touch one row, and two of those transactions never take two
 * shards in opposite orders.
 */
const SHARD = randomInt(CATALOG_VERSION_SHARDS);

const changeListeners = new Set<() => void>();

/**
 * `listener` is called whenever this process counts a catalog change (before its transaction
 * commits); returns its unsubscribe. A reader that caches the version reads it again meanwhile.
 */
export function onCatalogChange(listener: () => void): () => void {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

/**
 * Counts a change to what the catalog's readers see (a pornstar, alias, thumbnail, URL or image
 * state), in the transaction of that change: its commit changes the catalog version. Call it last
 * in the transaction, so that the row is held only until the commit.
 */
export async function countCatalogChange(db: Executor, now: number): Promise<void> {
  for (const listener of changeListeners) listener();
  await tables(db)
    .updateTable('catalog_versions')
    .set({ version: sql`version + 1`, changed_at: sql`case when changed_at > ${now} then changed_at else ${now} end` })
    .where('shard', '=', SHARD)
    .execute();
}

export interface CatalogVersion {
  /** Changes with every committed catalog write: the sum of the shards, as text. */
  version: string;
  /** Epoch ms of the last counted write. */
  changedAt: number;
}

/** Read before every catalog GET: compiled once. */
const versionQuery = prepareQuery<Record<string, never>, { version: number | string | null; changed_at: number | string | null }>((db) =>
  tables(db)
    .selectFrom('catalog_versions')
    .select((eb) => [eb.fn.sum<number | string>('version').as('version'), eb.fn.max<number | string>('changed_at').as('changed_at')]),
);

export async function readCatalogVersion(db: Executor): Promise<CatalogVersion> {
  const row = await versionQuery.first(db, {});
  return { version: String(row?.version ?? 0), changedAt: Number(row?.changed_at ?? 0) };
}
