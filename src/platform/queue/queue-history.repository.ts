import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { executorDialect } from '../db/executor-dialect.js';
import { tablesOf } from '../db/tables.js';
import { SUMMED_HISTORY_COLUMNS, type QueueHistoryTable, type QueueHistoryTables } from './queue-history.table.js';

const tables = tablesOf<QueueHistoryTables>();

/**
 * Adds the rows' counts to the buckets they name, creating the buckets that do not exist yet. The
 * rows are written in key order, so that two processes adding to the same buckets at once wait for
 * each other instead of deadlocking.
 */
export async function addToHistory(db: Executor, rows: readonly QueueHistoryTable[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => a.queue.localeCompare(b.queue) || a.bucket_ms - b.bucket_ms || a.bucket_start - b.bucket_start);
  const insert = tables(db).insertInto('queue_history').values(sorted);
  const dialect = executorDialect(db);
  if (dialect === 'mysql') {
    await insert
      .onDuplicateKeyUpdate({
        ...Object.fromEntries(SUMMED_HISTORY_COLUMNS.map((column) => [column, sql`${sql.ref(column)} + values(${sql.ref(column)})`])),
        wait_max_ms: sql`greatest(wait_max_ms, values(wait_max_ms))`,
      })
      .execute();
    return;
  }
  const greatest = dialect === 'postgres' ? sql.raw('greatest') : sql.raw('max');
  await insert
    .onConflict((oc) =>
      oc.columns(['queue', 'bucket_ms', 'bucket_start']).doUpdateSet({
        ...Object.fromEntries(SUMMED_HISTORY_COLUMNS.map((column) => [column, sql`queue_history.${sql.ref(column)} + excluded.${sql.ref(column)}`])),
        wait_max_ms: sql`${greatest}(queue_history.wait_max_ms, excluded.wait_max_ms)`,
      }),
    )
    .execute();
}

/** The buckets of one size of a queue from `from` on (bucket starts), oldest first; buckets without activity have no row. */
export function findHistory(db: Executor, queue: string, bucketMs: number, from: number) {
  return tables(db)
    .selectFrom('queue_history')
    .selectAll()
    .where('queue', '=', queue)
    .where('bucket_ms', '=', bucketMs)
    .where('bucket_start', '>=', from)
    .orderBy('bucket_start')
    .execute();
}

/** Deletes the buckets of one size that started before `before`; returns how many. */
export async function deleteHistoryBefore(db: Executor, bucketMs: number, before: number): Promise<number> {
  const result = await tables(db).deleteFrom('queue_history').where('bucket_ms', '=', bucketMs).where('bucket_start', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
