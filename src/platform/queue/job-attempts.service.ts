import type { Database } from '../db/database.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { offsetOf, type PageRequest } from '../http/pagination.js';
import { traceIdOf } from '../telemetry/trace-context.js';
import { countLatestAttempts, listAttemptsOfJob, listLatestAttempts } from './job-attempts.repository.js';
import type { AttemptOutcome, JobAttemptRow } from './job-attempts.table.js';
import type { JobSearchResult } from './job-search.js';
import type { JobState, Queue } from './queue.js';

/** Which jobs a recent list shows, by their latest row: `failed` is every job that finished badly (failed for good, or parked). */
export const RECENT_KINDS = ['completed', 'failed', 'retried'] as const;
export type RecentKind = (typeof RECENT_KINDS)[number];

const OUTCOMES_OF: Record<RecentKind, readonly AttemptOutcome[]> = { completed: ['completed'], failed: ['failed', 'parked'], retried: ['retried'] };

/** A recent list counts this many jobs at most: past it, it says there are more rather than count a day of them. */
export const RECENT_COUNT_LIMIT = 10_000;
const PAYLOAD_SUMMARY_CHARS = 200;

/** A job of a recent list, as its latest row shows it. */
export interface RecentJob {
  id: string;
  queue: string;
  attempt: number;
  outcome: AttemptOutcome;
  /** When the latest attempt started, or when the job was parked. */
  at: number;
  durationMs: number | null;
  error: string | null;
  priority: number | null;
  /** The start of the payload's JSON. */
  payloadSummary: string | null;
}

export interface AttemptView {
  attempt: number;
  outcome: AttemptOutcome;
  startedAt: number;
  durationMs: number | null;
  error: string | null;
  process: string | null;
}

export interface JobDetail {
  id: string;
  queue: string;
  /** Where the queue holds the job now; null: it holds it no longer (finished), or the driver could not look (`searched`). */
  state: JobState | null;
  /** `parked`: the driver can look among the parked jobs only (RabbitMQ). */
  searched: JobSearchResult['scope'];
  payload: unknown;
  headers: Record<string, string> | null;
  traceId: string | null;
  priority: number | null;
  enqueuedAt: number | null;
  /** While the queue holds the job: its attempts so far, its limit and its last error. */
  attemptsMade: number | null;
  maxAttempts: number | null;
  lastError: string | null;
  /** Every recorded attempt, oldest first (with its parking and first deferrals). */
  attempts: AttemptView[];
}

/** The attempt log for operators (admin API, dashboard, CLI): recent finished jobs per queue, and one job's every attempt. */
export class JobAttemptsService {
  constructor(private readonly deps: { database: Database; queue: Pick<Queue, 'search'> }) {}

  /** A page of a queue's jobs whose latest row is of `kind`, newest first; `total` stops at RECENT_COUNT_LIMIT (`totalCapped`). */
  async recent(queue: string, kind: RecentKind, page: PageRequest): Promise<{ jobs: RecentJob[]; total: number; totalCapped: boolean }> {
    const outcomes = OUTCOMES_OF[kind];
    const [rows, count] = await this.deps.database.readStale((db) =>
      Promise.all([listLatestAttempts(db, queue, outcomes, { limit: page.perPage, offset: offsetOf(page) }), countLatestAttempts(db, queue, outcomes, RECENT_COUNT_LIMIT)]),
    );
    return { jobs: rows.map(recentJobOf), total: Math.min(count, RECENT_COUNT_LIMIT), totalCapped: count > RECENT_COUNT_LIMIT };
  }

  /** The job as the queue holds it (if it does) and as its attempts recorded it; NotFoundError when neither knows it. */
  async detail(queue: string, id: string): Promise<JobDetail> {
    const [found, rows] = await Promise.all([
      this.deps.queue.search(queue, { id }, { limit: 1, offset: 0 }),
      this.deps.database.readStale((db) => listAttemptsOfJob(db, queue, id)),
    ]);
    const held = found.jobs[0];
    if (!held && rows.length === 0) throw new NotFoundError(`No job ${id} in ${queue}: the queue does not hold it, and no attempt of it is recorded.`);
    // The parking row of a job whose worker died knows neither its headers nor its priority: the latest row that does.
    const origin = rows.findLast((row) => row.headers !== null);
    const withPayload = rows.findLast((row) => row.payload !== null);
    const headers = origin ? (JSON.parse(origin.headers!) as Record<string, string>) : null;
    return {
      id,
      queue,
      state: held?.state ?? null,
      searched: found.scope,
      payload: held ? held.payload : withPayload ? (JSON.parse(withPayload.payload!) as unknown) : null,
      headers,
      traceId: traceIdOf(headers?.traceparent),
      priority: held?.priority ?? origin?.priority ?? null,
      enqueuedAt: held?.createdAt ?? origin?.enqueued_at ?? null,
      attemptsMade: held?.attempts ?? null,
      maxAttempts: held?.maxAttempts ?? null,
      lastError: held?.lastError ?? null,
      attempts: rows.map(attemptViewOf),
    };
  }
}

function recentJobOf(row: JobAttemptRow): RecentJob {
  return {
    id: row.job_id,
    queue: row.queue,
    attempt: row.attempt,
    outcome: row.outcome,
    at: row.started_at,
    durationMs: row.duration_ms,
    error: row.error,
    priority: row.priority,
    payloadSummary: row.payload === null ? null : summary(row.payload),
  };
}

function summary(json: string): string {
  return json.length <= PAYLOAD_SUMMARY_CHARS ? json : `${json.slice(0, PAYLOAD_SUMMARY_CHARS - 1)}…`;
}

function attemptViewOf(row: JobAttemptRow): AttemptView {
  return { attempt: row.attempt, outcome: row.outcome, startedAt: row.started_at, durationMs: row.duration_ms, error: row.error, process: row.process };
}
