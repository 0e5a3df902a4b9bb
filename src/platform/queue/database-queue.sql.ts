import { sql, type Kysely } from 'kysely';
import type { Dialect, Executor } from '../db/database.js';
import { tablesOf } from '../db/tables.js';
import { BulkInsert } from '../db/bulk-insert.js';
import { coalescedRows } from '../db/coalesce.js';
import { idAmong } from '../db/id-among.js';
import { param, prepareQuery } from '../db/prepared-query.js';
import type { JobRow, NewJobRow, QueueTables } from './jobs.table.js';

type Db = Kysely<QueueTables>;
const tables = tablesOf<QueueTables>();

export type NewJob = Required<Omit<NewJobRow, 'id' | 'attempts'>>;

const jobValues = (db: Executor) =>
  tables(db)
    .insertInto('jobs')
    .values({
      queue: param('queue'),
      payload: param('payload'),
      headers: param('headers'),
      priority: param('priority'),
      state: param('state'),
      max_attempts: param('max_attempts'),
      available_at: param('available_at'),
      lease_until: param('lease_until'),
      locked_by: param('locked_by'),
      dedupe_key: param('dedupe_key'),
      last_error: param('last_error'),
      created_at: param('created_at'),
      updated_at: param('updated_at'),
    });

const insertJobQuery = prepareQuery<NewJob, never>((db) => jobValues(db));
const insertJobUnlessLiveQuery = prepareQuery<NewJob, never>((db) => jobValues(db).onConflict((oc) => oc.doNothing()));
const insertJobIgnoringDuplicateQuery = prepareQuery<NewJob, never>((db) => jobValues(db).ignore());

const JOB_COLUMNS = ['queue', 'payload', 'headers', 'priority', 'state', 'max_attempts', 'available_at', 'lease_until', 'locked_by', 'dedupe_key', 'last_error', 'created_at', 'updated_at'] as const;
const insertJobs = new BulkInsert<NewJob>('jobs', JOB_COLUMNS);
const insertJobsUnlessLive = new BulkInsert<NewJob>('jobs', JOB_COLUMNS, { ignoreConflicts: true });

/** Many jobs in multi-row inserts; a job whose dedupe key is live (or repeated in `jobs`) is skipped. */
export async function insertManyJobs(executor: Executor, jobs: readonly NewJob[]): Promise<void> {
  const deduped = jobs.some((job) => job.dedupe_key !== null);
  await (deduped ? insertJobsUnlessLive : insertJobs).insert(executor, jobs);
}

/** The jobs of the interleaved transactions of a batch in one multi-row insert (platform/db/coalesce.ts). */
export const insertJobsCoalesced = coalescedRows<NewJob>(insertManyJobs);

/** With a dedupe key, a live job with the same key makes this a no-op. Prepared: it runs on every order. */
export async function insertJob(executor: Executor, dialect: Dialect, job: NewJob): Promise<void> {
  if (job.dedupe_key === null) await insertJobQuery.execute(executor, job);
  else if (dialect === 'mysql') await insertJobIgnoringDuplicateQuery.execute(executor, job);
  else await insertJobUnlessLiveQuery.execute(executor, job);
}

interface ClaimParams {
  queue: string;
  limit: number;
  now: number;
  leaseUntil: number;
  lockedBy: string;
}

/** Claims up to `limit` ready jobs, highest priority first, then first in, first out. */
export async function claimJobs(db: Executor, dialect: Dialect, p: ClaimParams): Promise<JobRow[]> {
  const claimed: JobRow[] = dialect === 'mysql' ? await claimWithSelectThenUpdate(tables(db), p) : await claimWithUpdateReturning(tables(db), dialect, p);
  return claimed.sort((a, b) => b.priority - a.priority || a.available_at - b.available_at || a.id - b.id);
}

function nextReady(db: Db, p: ClaimParams) {
  return db
    .selectFrom('jobs')
    .select('id')
    .where('queue', '=', p.queue)
    .where('state', '=', 'ready')
    .where('available_at', '<=', p.now)
    .orderBy('priority', 'desc')
    .orderBy('available_at')
    .orderBy('id')
    .limit(p.limit);
}

function claimUpdate(db: Db, p: ClaimParams) {
  return db.updateTable('jobs').set({
    state: 'active',
    attempts: sql<number>`attempts + 1`,
    lease_until: p.leaseUntil,
    locked_by: p.lockedBy,
    updated_at: p.now,
  });
}

async function claimWithUpdateReturning(db: Db, dialect: Dialect, p: ClaimParams): Promise<JobRow[]> {
  if (dialect === 'postgres') return claimUpdate(db, p).where(idAmong(nextReady(db, p).forUpdate().skipLocked())).returningAll().execute();
  return claimUpdate(db, p).where('id', 'in', nextReady(db, p)).returningAll().execute();
}

/**
 * MySQL's claim, at READ COMMITTED as PostgreSQL's: at REPEATABLE READ its statements keep locks
 * on rows and gaps they only passed, where a claim can deadlock with another or with a deletion of
 * finished jobs (as the outbox's claims did: outbox.repository.ts).
 */
async function claimWithSelectThenUpdate(db: Db, p: ClaimParams): Promise<JobRow[]> {
  return db.transaction().setIsolationLevel('read committed').execute(async (trx) => {
    const ids = (await nextReady(trx, p).forUpdate().skipLocked().execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await claimUpdate(trx, p).where('id', 'in', ids).execute();
    return trx.selectFrom('jobs').selectAll().where('id', 'in', ids).execute();
  });
}

/** Finished jobs that this worker still holds, in one statement. */
export async function deleteCompletedJobs(db: Executor, ids: readonly number[], lockedBy: string): Promise<void> {
  if (ids.length === 0) return;
  await tables(db).deleteFrom('jobs').where('id', 'in', ids).where('locked_by', '=', lockedBy).execute();
}

/** `uncounted`: a deferral, whose attempt the claim counted and this takes back. */
export async function rescheduleJob(db: Executor, id: number, lockedBy: string, availableAt: number, error: string, now: number, uncounted = false): Promise<void> {
  await tables(db)
    .updateTable('jobs')
    .set({ state: 'ready', available_at: availableAt, lease_until: null, locked_by: null, last_error: error, updated_at: now, ...(uncounted && { attempts: sql<number>`attempts - 1` }) })
    .where('id', '=', id)
    .where('locked_by', '=', lockedBy)
    .execute();
}

/** False when the job was no longer this worker's to park (a stop gave it back meanwhile). */
export async function parkJob(db: Executor, id: number, lockedBy: string, error: string, now: number, attempts?: number): Promise<boolean> {
  const result = await tables(db)
    .updateTable('jobs')
    .set({ state: 'parked', lease_until: null, locked_by: null, last_error: error, updated_at: now, ...(attempts === undefined ? {} : { attempts }) })
    .where('id', '=', id)
    .where('locked_by', '=', lockedBy)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives unfinished jobs back without counting the attempt (a shutdown, not a failure). */
export async function releaseJobs(db: Executor, ids: number[], lockedBy: string, now: number): Promise<void> {
  if (ids.length === 0) return;
  await tables(db)
    .updateTable('jobs')
    .set({ state: 'ready', attempts: sql<number>`attempts - 1`, lease_until: null, locked_by: null, updated_at: now })
    .where('id', 'in', ids)
    .where('locked_by', '=', lockedBy)
    .where('state', '=', 'active')
    .execute();
}

export async function extendLeases(db: Executor, lockedBy: string, leaseUntil: number): Promise<void> {
  await tables(db).updateTable('jobs').set({ lease_until: leaseUntil }).where('locked_by', '=', lockedBy).where('state', '=', 'active').execute();
}

/**
 * Jobs whose worker died go back to ready with the attempt counted. One that died during its last
 * attempt is parked by the worker that claims it next, which tells the job's owner.
 */
export async function reclaimExpiredLeases(db: Executor, now: number): Promise<number> {
  const result = await tables(db)
    .updateTable('jobs')
    .set({ state: 'ready', lease_until: null, locked_by: null, last_error: 'lease expired: the worker stopped during the job', updated_at: now })
    .where('state', '=', 'active')
    .where('lease_until', '<', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function listParkedJobs(db: Executor, queue: string, limit: number, offset: number): Promise<JobRow[]> {
  return tables(db)
    .selectFrom('jobs')
    .selectAll()
    .where('queue', '=', queue)
    .where('state', '=', 'parked')
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function requeueParkedJobs(db: Executor, queue: string, ids: number[] | 'all', now: number): Promise<number> {
  let query = tables(db)
    .updateTable('jobs')
    .set({ state: 'ready', attempts: 0, available_at: now, updated_at: now })
    .where('queue', '=', queue)
    .where('state', '=', 'parked');
  if (ids !== 'all') query = query.where('id', 'in', ids.length > 0 ? ids : [-1]);
  return Number((await query.executeTakeFirst()).numUpdatedRows);
}

export async function deleteParkedJobs(db: Executor, queue: string, ids?: number[]): Promise<number> {
  let query = tables(db).deleteFrom('jobs').where('queue', '=', queue).where('state', '=', 'parked');
  if (ids) query = query.where('id', 'in', ids.length > 0 ? ids : [-1]);
  return Number((await query.executeTakeFirst()).numDeletedRows);
}

export function countJobs(db: Executor, queue: string, now: number) {
  return tables(db)
    .selectFrom('jobs')
    .select((eb) => [
      eb
        .case()
        .when(eb.and([eb('state', '=', 'ready'), eb('available_at', '>', now)]))
        .then(sql.lit('delayed'))
        .else(eb.ref('state'))
        .end()
        .as('state'),
      'priority',
      eb.fn.countAll<number>().as('count'),
      eb.fn.min<number>('available_at').as('since'),
    ])
    .where('queue', '=', queue)
    .groupBy([sql`1`, sql`2`])
    .execute();
}
