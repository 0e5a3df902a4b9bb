import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { Executor } from '../db/database.js';
import { tablesOf } from '../db/tables.js';
import { payloadFieldPatterns, type JobFilter } from './job-search.js';
import type { QueueTables } from './jobs.table.js';

const tables = tablesOf<QueueTables>();

/** `text` as a LIKE pattern matching it anywhere, with `!` escaping LIKE's own characters (one escape character every engine reads alike). */
function containing(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

function matching(eb: ExpressionBuilder<QueueTables, 'jobs'>, queue: string, filter: JobFilter, now: number) {
  const conditions = [eb('queue', '=', queue)];
  if (filter.id !== undefined) {
    const id = Number(filter.id);
    // Another driver's id (a UUID) names no row here, and PostgreSQL refuses to compare one with a bigint.
    conditions.push(/^\d{1,15}$/.test(filter.id) ? eb('id', '=', id) : eb.lit(false));
  }
  if (filter.state === 'ready') conditions.push(eb('state', '=', 'ready'), eb('available_at', '<=', now));
  else if (filter.state === 'delayed') conditions.push(eb('state', '=', 'ready'), eb('available_at', '>', now));
  else if (filter.state) conditions.push(eb('state', '=', filter.state));
  if (filter.priority !== undefined) conditions.push(eb('priority', '=', filter.priority));
  if (filter.from !== undefined) conditions.push(eb('created_at', '>=', filter.from));
  if (filter.to !== undefined) conditions.push(eb('created_at', '<', filter.to));
  if (filter.text !== undefined) {
    const pattern = containing(filter.text.toLowerCase());
    conditions.push(eb.or([sql<boolean>`lower(payload) like ${pattern} escape '!'`, sql<boolean>`lower(last_error) like ${pattern} escape '!'`]));
  }
  if (filter.payloadField) conditions.push(eb.or(payloadFieldPatterns(filter.payloadField).map((text) => sql<boolean>`payload like ${containing(text)} escape '!'`)));
  return eb.and(conditions);
}

/** A page of a queue's jobs matching `filter`, newest first, and how many match in all. */
export async function searchJobs(db: Executor, queue: string, filter: JobFilter, now: number, page: { limit: number; offset: number }) {
  const base = tables(db).selectFrom('jobs').where((eb) => matching(eb, queue, filter, now));
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    (base as SelectQueryBuilder<QueueTables, 'jobs', object>).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** The ids of a queue's parked jobs matching `filter`, at most `limit` after `afterId` (ascending), to act on a search's result in chunks. */
export async function parkedJobIdsMatching(db: Executor, queue: string, filter: JobFilter, now: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await tables(db)
    .selectFrom('jobs')
    .select('id')
    .where((eb) => matching(eb, queue, { ...filter, state: 'parked' }, now))
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => Number(row.id));
}
