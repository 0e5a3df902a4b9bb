import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { executorDialect } from '../db/executor-dialect.js';
import { tablesOf } from '../db/tables.js';
import type { NewWorkerProcessRow, QueueControlTables } from './queue-controls.table.js';

const tables = tablesOf<QueueControlTables>();

/** A process is alive for three of its heartbeats after its last one. */
export const HEARTBEATS_ALIVE = 3;

/** Writes the process's heartbeat: its row, created on the first beat. */
export async function upsertWorkerProcess(db: Executor, row: NewWorkerProcessRow): Promise<void> {
  const beat = { last_seen_at: row.last_seen_at, heartbeat_ms: row.heartbeat_ms, queues: row.queues, running: row.running, running_count: row.running_count };
  const insert = tables(db).insertInto('worker_processes').values(row);
  if (executorDialect(db) === 'mysql') await insert.onDuplicateKeyUpdate(beat).execute();
  else await insert.onConflict((oc) => oc.column('id').doUpdateSet(beat)).execute();
}

export async function deleteWorkerProcess(db: Executor, id: string): Promise<void> {
  await tables(db).deleteFrom('worker_processes').where('id', '=', id).execute();
}

/** A page of processes for operators: the alive ones first, each group the most recently seen first. */
export function listWorkerProcessesPage(db: Executor, now: number, page: { limit: number; offset: number }) {
  const dead = sql<number>`case when last_seen_at + ${sql.lit(HEARTBEATS_ALIVE)} * heartbeat_ms >= ${now} then 0 else 1 end`;
  return tables(db).selectFrom('worker_processes').selectAll().orderBy(dead).orderBy('last_seen_at', 'desc').orderBy('id').limit(page.limit).offset(page.offset).execute();
}

export async function countWorkerProcesses(db: Executor): Promise<number> {
  const row = await tables(db).selectFrom('worker_processes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Forgets the processes that stopped beating before `seenBefore` (they crashed, or were killed). */
export async function deleteWorkerProcessesSeenBefore(db: Executor, seenBefore: number): Promise<number> {
  const result = await tables(db).deleteFrom('worker_processes').where('last_seen_at', '<', seenBefore).executeTakeFirst();
  return Number(result.numDeletedRows);
}
