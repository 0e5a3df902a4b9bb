import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * How an attempt ended: `completed`; `retried` (another attempt follows); `failed` (none follows:
 * a PermanentError, or the last attempt failed); `given back` (its worker stopped first); or what
 * happened besides attempts: `deferred` (held without counting an attempt; only a job's first
 * deferral per attempt is kept) and `parked` (the job was dead-lettered).
 */
export const ATTEMPT_OUTCOMES = ['completed', 'retried', 'failed', 'parked', 'deferred', 'given back'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface JobAttemptsTable {
  id: Generated<number>;
  queue: string;
  job_id: string;
  attempt: number;
  priority: number | null;
  outcome: AttemptOutcome;
  /** When the attempt started, or when the job was parked (epoch ms). */
  started_at: number;
  duration_ms: number | null;
  /** Cut to 2,000 characters. */
  error: string | null;
  /** `host:pid` of the worker that ran it. */
  process: string | null;
  payload: string | null;
  headers: string | null;
  enqueued_at: number | null;
}

export type JobAttemptRow = Selectable<JobAttemptsTable>;
export type NewJobAttemptRow = Insertable<JobAttemptsTable>;

export interface JobAttemptTables {
  job_attempts: JobAttemptsTable;
}
