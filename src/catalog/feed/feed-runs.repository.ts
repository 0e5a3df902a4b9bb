import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import { tablesOf } from '../../platform/db/tables.js';
import { insertReturningId } from '../../platform/db/returning.js';
import type { CatalogTables, FeedRunRow, FeedRunsTable } from '../catalog.tables.js';

const tables = tablesOf<CatalogTables>();

export async function insertFeedRun(db: Executor, run: Insertable<FeedRunsTable>): Promise<number> {
  return insertReturningId(db, 'feed_runs', run);
}

export async function updateFeedRun(db: Executor, id: number, changes: Updateable<FeedRunsTable>): Promise<void> {
  await tables(db).updateTable('feed_runs').set(changes).where('id', '=', id).execute();
}

/**
 * Locks the run's row for the transaction that finishes it, if the run is still `running`: false
 * when another process has taken the lease meanwhile and marked it interrupted, and may be
 * discarding what it wrote. The first statement of that transaction, so that the two serialize.
 */
export async function holdRunningRun(db: Executor, id: number, now: number): Promise<boolean> {
  const result = await tables(db).updateTable('feed_runs').set({ finished_at: now }).where('id', '=', id).where('status', '=', 'running').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function findFeedRun(db: Executor, id: number): Promise<FeedRunRow> {
  return tables(db).selectFrom('feed_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The last run that read a body and kept it: its validators, hash and item count guide the next run. */
export function findLastSuccessfulRun(db: Executor): Promise<FeedRunRow | undefined> {
  return tables(db)
    .selectFrom('feed_runs')
    .selectAll()
    .where('status', 'in', ['succeeded', 'unchanged'])
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

export async function hasSucceededOnce(db: Executor): Promise<boolean> {
  const row = await tables(db).selectFrom('feed_runs').select('id').where('status', '=', 'succeeded').executeTakeFirst();
  return row !== undefined;
}

export function listFeedRuns(db: Executor, limit: number, offset = 0): Promise<FeedRunRow[]> {
  return tables(db).selectFrom('feed_runs').selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
}

export async function countFeedRuns(db: Executor): Promise<number> {
  const row = await tables(db).selectFrom('feed_runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Runs left `running` by a process that died: they can never finish. */
export async function failInterruptedRuns(db: Executor, now: number): Promise<number> {
  const result = await tables(db)
    .updateTable('feed_runs')
    .set({ status: 'failed', error: 'interrupted: the process running it stopped', finished_at: now })
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
