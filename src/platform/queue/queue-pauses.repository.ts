import type { Executor } from '../db/database.js';
import { executorDialect } from '../db/executor-dialect.js';
import { tablesOf } from '../db/tables.js';
import type { QueueControlTables, QueuePauseRow } from './queue-controls.table.js';

const tables = tablesOf<QueueControlTables>();

/** Pauses the queue unless it is paused already (the first pause keeps its time, operator and reason); true when this call paused it. */
export async function insertQueuePause(db: Executor, pause: QueuePauseRow): Promise<boolean> {
  const insert = tables(db).insertInto('queue_pauses').values(pause);
  const result = executorDialect(db) === 'mysql' ? await insert.ignore().executeTakeFirst() : await insert.onConflict((oc) => oc.column('queue').doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Resumes the queue; true when it was paused. */
export async function deleteQueuePause(db: Executor, queue: string): Promise<boolean> {
  const result = await tables(db).deleteFrom('queue_pauses').where('queue', '=', queue).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function findQueuePause(db: Executor, queue: string) {
  return tables(db).selectFrom('queue_pauses').selectAll().where('queue', '=', queue).executeTakeFirst();
}

/** Every paused queue: what each worker process polls. */
export function listQueuePauses(db: Executor) {
  return tables(db).selectFrom('queue_pauses').selectAll().orderBy('queue').execute();
}
