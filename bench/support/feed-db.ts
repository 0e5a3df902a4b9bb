/** Read-only looks into a benchmarked SQLite catalog, from the bench process while children write. */
import Sqlite from 'better-sqlite3';
import type { FeedRunRow } from '../../src/catalog/catalog.tables.js';

export type FeedRun = FeedRunRow;

/** The tables a feed run writes, apart from `feed_runs` itself. */
export const CATALOG_TABLES = ['pornstars', 'pornstar_aliases', 'pornstar_thumbnails', 'pornstar_thumbnail_urls', 'images', 'jobs'] as const;

export interface TableChecksum {
  rows: number;
  maxId: number;
  sumCreatedAt: number;
  sumUpdatedAt: number;
}

export type CatalogChecksum = Record<(typeof CATALOG_TABLES)[number], TableChecksum>;

function withDb<T>(dbFile: string, read: (db: Sqlite.Database) => T): T {
  const db = new Sqlite(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

export function lastFeedRun(dbFile: string): FeedRun | undefined {
  return withDb(dbFile, (db) => db.prepare('select * from feed_runs order by id desc limit 1').get() as FeedRun | undefined);
}

/**
 * Row count, highest id and the sums of created_at and updated_at per table: any insert, delete
 * or update that touches `updated_at` (every write of the catalog does) changes one of them.
 */
export function catalogChecksum(dbFile: string): CatalogChecksum {
  return withDb(dbFile, (db) => {
    const sums = {} as CatalogChecksum;
    for (const table of CATALOG_TABLES) {
      const row = db
        .prepare(`select count(*) as rows, coalesce(max(id), 0) as maxId, total(created_at) as sumCreatedAt, total(updated_at) as sumUpdatedAt from ${table}`)
        .get() as TableChecksum;
      sums[table] = { rows: row.rows, maxId: row.maxId, sumCreatedAt: row.sumCreatedAt, sumUpdatedAt: row.sumUpdatedAt };
    }
    return sums;
  });
}

/** The tables whose checksum differs, with both values. */
export function checksumChanges(before: CatalogChecksum, after: CatalogChecksum): string[] {
  return CATALOG_TABLES.filter((t) => JSON.stringify(before[t]) !== JSON.stringify(after[t])).map(
    (t) => `${t}: ${JSON.stringify(before[t])} → ${JSON.stringify(after[t])}`,
  );
}

export interface ImageState {
  pending: number;
  cached: number;
  failed: number;
  /** Epoch ms of the first and last download stored. */
  firstFetchedAt: number | null;
  lastFetchedAt: number | null;
}

export function imageState(dbFile: string): ImageState {
  return withDb(dbFile, (db) => {
    const state: ImageState = { pending: 0, cached: 0, failed: 0, firstFetchedAt: null, lastFetchedAt: null };
    for (const row of db.prepare('select status, count(*) as n from images group by status').all() as Array<{ status: keyof ImageState; n: number }>) {
      if (row.status === 'pending' || row.status === 'cached' || row.status === 'failed') state[row.status] = row.n;
    }
    const range = db.prepare('select min(fetched_at) as first, max(fetched_at) as last from images where fetched_at is not null').get() as { first: number | null; last: number | null };
    state.firstFetchedAt = range.first;
    state.lastFetchedAt = range.last;
    return state;
  });
}

export function countRows(dbFile: string, table: string): number {
  return withDb(dbFile, (db) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
}

/** Polls every 100 ms until no image is pending, `gaveUp()` says to stop (the worker exited) or `timeoutMs` passed. */
export async function waitForNoPendingImage(dbFile: string, timeoutMs: number, gaveUp: () => boolean): Promise<{ state: ImageState; timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const state = imageState(dbFile);
    if (state.pending === 0 || gaveUp()) return { state, timedOut: false };
    if (Date.now() > deadline) return { state, timedOut: true };
  }
}
