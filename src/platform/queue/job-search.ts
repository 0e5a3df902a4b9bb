import type { JobState, ParkedJob, Priority, Queue } from './queue.js';

/** What an operator looks for among a queue's jobs; every field narrows the search. */
export interface JobFilter {
  /** One job, by its id. */
  id?: string;
  state?: JobState;
  priority?: Priority;
  /** Enqueued at or after this time (epoch ms). */
  from?: number;
  /** Enqueued before this time (epoch ms). */
  to?: number;
  /** Text in the payload (its JSON) or the last error, case-insensitive. */
  text?: string;
  /** A top-level payload field and its value: `{ key: 'itemId', value: 42 }`. */
  payloadField?: { key: string; value: string | number | boolean | null };
}

/** A job as a search lists it: a parked job's fields, with its state and last change instead of its parking time. */
export interface JobSummary extends Omit<ParkedJob, 'parkedAt'> {
  state: JobState;
  updatedAt: number;
}

export interface JobSearchResult {
  jobs: JobSummary[];
  total: number;
  /** `all`: every state was searched; `parked`: the driver can search parked jobs only (a broker's ready messages cannot be read in place). */
  scope: 'all' | 'parked';
}

/**
 * The texts a payload's JSON holds when `field` has its value: the value followed by a comma or
 * the closing brace, so that `itemId: 4` matches `{"itemId":4}` and not `{"itemId":42}`. Payloads
 * are stored as `JSON.stringify` writes them, without spaces.
 */
export function payloadFieldPatterns(field: NonNullable<JobFilter['payloadField']>): string[] {
  const pair = `${JSON.stringify(field.key)}:${JSON.stringify(field.value)}`;
  return [`${pair},`, `${pair}}`];
}

/** Whether a parked job (read from a broker) matches the filter, as the database driver's query would. */
export function parkedJobMatches(job: ParkedJob, filter: JobFilter): boolean {
  if (filter.id !== undefined && job.id !== filter.id) return false;
  if (filter.state !== undefined && filter.state !== 'parked') return false;
  if (filter.priority !== undefined && job.priority !== filter.priority) return false;
  if (filter.from !== undefined && job.createdAt < filter.from) return false;
  if (filter.to !== undefined && job.createdAt >= filter.to) return false;
  const payload = typeof job.payload === 'string' ? job.payload : JSON.stringify(job.payload);
  if (filter.text !== undefined) {
    const text = filter.text.toLowerCase();
    if (!payload.toLowerCase().includes(text) && !(job.lastError ?? '').toLowerCase().includes(text)) return false;
  }
  if (filter.payloadField && !payloadFieldPatterns(filter.payloadField).some((pattern) => payload.includes(pattern))) return false;
  return true;
}

export function summaryOfParked(job: ParkedJob): JobSummary {
  return { id: job.id, queue: job.queue, state: 'parked', payload: job.payload, priority: job.priority, attempts: job.attempts, maxAttempts: job.maxAttempts, lastError: job.lastError, createdAt: job.createdAt, updatedAt: job.parkedAt };
}

/** Parked jobs acted on per round when acting on a search's result. */
const ROUND = 1_000;

/**
 * Retries or purges every parked job that matches `filter`: a search's result as one action. The
 * matches are read and acted on a thousand at a time, so that a large result never sits in memory,
 * until a round finds none or changes none. Returns how many were acted on.
 */
export async function actOnParkedMatches(queue: Queue, name: string, filter: JobFilter, action: 'retry' | 'purge'): Promise<number> {
  let done = 0;
  for (;;) {
    const { jobs } = await queue.search(name, { ...filter, state: 'parked' }, { limit: ROUND, offset: 0 });
    if (jobs.length === 0) return done;
    const ids = jobs.map((job) => job.id);
    const changed = action === 'retry' ? await queue.retryParked(name, ids) : await queue.purgeParked(name, ids);
    done += changed;
    if (changed === 0 || jobs.length < ROUND) return done;
  }
}
