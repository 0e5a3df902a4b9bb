import { sql, type ExpressionBuilder } from 'kysely';
import { BulkInsert } from '../db/bulk-insert.js';
import type { Executor } from '../db/database.js';
import { tablesOf } from '../db/tables.js';
import type { AttemptOutcome, JobAttemptRow, JobAttemptTables } from './job-attempts.table.js';

const tables = tablesOf<JobAttemptTables>();

export type JobAttemptInsert = Omit<JobAttemptRow, 'id'>;

const attemptsInsert = new BulkInsert<JobAttemptInsert>('job_attempts', [
  'queue',
  'job_id',
  'attempt',
  'priority',
  'outcome',
  'started_at',
  'duration_ms',
  'error',
  'process',
  'payload',
  'headers',
  'enqueued_at',
]);

export async function insertJobAttempts(db: Executor, rows: readonly JobAttemptInsert[]): Promise<void> {
  await attemptsInsert.insert(db, rows);
}

/** Every recorded attempt of one job, oldest first. */
export function listAttemptsOfJob(db: Executor, queue: string, jobId: string): Promise<JobAttemptRow[]> {
  return tables(db).selectFrom('job_attempts').selectAll().where('queue', '=', queue).where('job_id', '=', jobId).orderBy('started_at').orderBy('id').execute();
}

/** The row is its job's latest: no row of the same job started later (or at the same time and was written after it). */
function isLatestOfItsJob(eb: ExpressionBuilder<JobAttemptTables & { a: JobAttemptTables['job_attempts'] }, 'a'>) {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('job_attempts as later')
        .select(sql.lit(1).as('one'))
        .whereRef('later.queue', '=', 'a.queue')
        .whereRef('later.job_id', '=', 'a.job_id')
        .where((later) => later.or([later('later.started_at', '>', later.ref('a.started_at')), later.and([later('later.started_at', '=', later.ref('a.started_at')), later('later.id', '>', later.ref('a.id'))])])),
    ),
  );
}

function latestWithOutcome(db: Executor, queue: string, outcomes: readonly AttemptOutcome[]) {
  return tables(db)
    .selectFrom('job_attempts as a')
    .where('a.queue', '=', queue)
    .where('a.outcome', 'in', [...outcomes])
    .where((eb) => isLatestOfItsJob(eb));
}

/** A page of a queue's jobs whose latest row has one of `outcomes`: that row, newest first. */
export function listLatestAttempts(db: Executor, queue: string, outcomes: readonly AttemptOutcome[], page: { limit: number; offset: number }): Promise<JobAttemptRow[]> {
  return latestWithOutcome(db, queue, outcomes).selectAll('a').orderBy('a.started_at', 'desc').orderBy('a.id', 'desc').limit(page.limit).offset(page.offset).execute();
}

/** How many jobs `listLatestAttempts` pages through, counted up to `upTo + 1` (a count past `upTo` says "more"). */
export async function countLatestAttempts(db: Executor, queue: string, outcomes: readonly AttemptOutcome[], upTo: number): Promise<number> {
  const matching = latestWithOutcome(db, queue, outcomes).select('a.id').limit(upTo + 1);
  const row = await tables(db)
    .selectFrom(matching.as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Rows of one queue and outcome older than `before`, found through the recent-list index. */
export async function jobAttemptIdsStartedBefore(db: Executor, group: { queue: string; outcome: AttemptOutcome }, before: number, limit: number): Promise<number[]> {
  const rows = await tables(db)
    .selectFrom('job_attempts')
    .select('id')
    .where('queue', '=', group.queue)
    .where('outcome', '=', group.outcome)
    .where('started_at', '<', before)
    .limit(limit)
    .execute();
  return rows.map((row) => Number(row.id));
}

export async function deleteJobAttempts(db: Executor, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('job_attempts').where('id', 'in', [...ids]).executeTakeFirst();
  return Number(result.numDeletedRows);
}
