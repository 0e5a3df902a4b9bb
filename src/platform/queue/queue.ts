import type { Executor } from '../db/database.js';
import type { JobCompletion } from './job-completion.js';
import type { JobFilter, JobSearchResult } from './job-search.js';

/** low=1, normal=2, high=3, critical=4, max=5. Higher is served first. */
export type Priority = 1 | 2 | 3 | 4 | 5;
export const PRIORITIES: readonly Priority[] = [1, 2, 3, 4, 5];
export const DEFAULT_PRIORITY: Priority = 2;

export interface EnqueueOptions {
  priority?: Priority;
  /** The job becomes available this long after the enqueue. */
  delayMs?: number;
  /** While a job with this key is live (not completed) in the queue, another enqueue is a no-op. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** Carried to the handler, e.g. the W3C `traceparent`. */
  headers?: Record<string, string>;
  /** A job that has not started by this time (epoch ms) is parked as `expired`, not run late. */
  expiresAt?: number;
}

export interface NewJob {
  payload: unknown;
  options?: EnqueueOptions;
}

export interface JobContext {
  id: string;
  queue: string;
  /** 1 on the first delivery. */
  attempt: number;
  maxAttempts: number;
  priority: Priority;
  /** When the job was first enqueued (epoch ms). */
  enqueuedAt: number;
  /** Since when this attempt could run (epoch ms): the enqueue, or the end of its delay, backoff or hold. Its start minus this is its wait for a worker. */
  readyAt: number;
  headers: Record<string, string>;
  /** Aborted when the worker is forced to stop before the handler finished. */
  signal: AbortSignal;
  /**
   * The database queue's: lets the handler delete the job in the transaction of its last writes
   * (`completeJobsWithin`). Unset on other drivers, where the worker completes every job itself.
   */
  completion?: JobCompletion;
}

export type JobHandler<P = unknown> = (payload: P, job: JobContext) => Promise<void>;

/** The handler failed in a way that may pass on a later attempt. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** The handler failed in a way that no retry can fix: the job is parked at once. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/**
 * The handler cannot run the job now for a reason of its own making (a local cap is full), not a
 * failure of the job: it runs again after `delayMs` and the attempt is not counted.
 */
export class DeferredError extends Error {
  constructor(
    readonly delayMs: number,
    message = `deferred for ${delayMs} ms`,
    /**
     * The time (epoch ms) to run again, where it matters more than the delay: jobs held until one
     * moment become ready at that very moment, and are then taken by priority.
     */
    readonly untilMs?: number,
  ) {
    super(message);
    this.name = 'DeferredError';
  }
}

export interface BackoffPolicy {
  baseMs: number;
  /** The longest wait, and the cap on a `Retry-After`. */
  maxMs: number;
  /**
   * Fixed waits instead of the exponential: entry n follows the n-th failed attempt (the last
   * entry repeats), with ±10% jitter.
   */
  scheduleMs?: readonly number[];
}

/** What a handler's owner learns when its job is parked. */
export interface ParkedNotice {
  id: string;
  queue: string;
  /** Attempts made, at most `maxAttempts`. */
  attempts: number;
  maxAttempts: number;
  reason: string;
}

/** A job type's owner's reaction to one of its jobs being parked, e.g. marking its entity failed. */
export type ParkedHandler = (payload: unknown, notice: ParkedNotice) => Promise<void>;

export interface WorkOptions {
  concurrency: number;
  /**
   * Jobs claimed ahead of a free slot (default 0), so that a finished job's slot starts the next
   * one at once instead of waiting for a claim. Like a broker's prefetch, a prefetched job may
   * run after a higher-priority job enqueued later.
   */
  prefetch?: number;
  /**
   * false: a finished job's completion is committed without waiting for the disk (database
   * driver). A power cut may then run it once more; only for handlers whose re-run is cheap and
   * harmless. Default true.
   */
  durableCompletions?: boolean;
  backoff?: BackoffPolicy;
  /**
   * Called after a job is parked, however that happened: attempts ran out, the handler failed
   * permanently, or its worker died during the last attempt (the handler then never learns of it).
   * Every driver calls it through `JobOutcomePolicy.notifyParked`.
   */
  onParked?: ParkedHandler;
  /**
   * Closed while something outside the queue says its jobs cannot run (the one destination they all
   * go to is held): the worker then claims nothing, as under an operator's pause.
   */
  claimGate?: ClaimGate;
}

/** Whether a queue's workers may claim now, beyond an operator's pause; see `WorkOptions.claimGate`. */
export interface ClaimGate {
  /** Resolves once the gate knows whether it is open (its first read), so that no worker claims before. */
  ready(): Promise<void>;
  isOpen(): boolean;
  /** `listener` is called after the gate opened or closed; returns its unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export interface Worker {
  /** Stops claiming, waits for in-flight handlers up to `deadlineMs`, then gives their jobs back. */
  stop(deadlineMs?: number): Promise<void>;
  /**
   * Claims nothing more until `resume`, and gives back what it claimed ahead without counting an
   * attempt; running jobs go on, and keep their slots. A driver's own worker has both.
   */
  suspend?(): void;
  resume?(): void;
}

export type JobState = 'ready' | 'delayed' | 'active' | 'parked';

export interface ParkedJob {
  id: string;
  queue: string;
  payload: unknown;
  priority: Priority;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: number;
  parkedAt: number;
}

export interface QueueStats {
  queue: string;
  counts: Record<JobState, number>;
  /** counts by state, then by priority. */
  byPriority: Record<JobState, Record<Priority, number>>;
  /**
   * Per state, whether its `byPriority` counts are exact. A broker cannot count the messages of
   * a queue by priority: a driver reports what it can count there (possibly nothing) and false.
   */
  byPriorityExact?: Record<JobState, boolean>;
  /**
   * Since when the oldest ready job has been ready to run (epoch ms): its wait for a worker; null
   * when none is ready. Absent where the driver cannot tell (a broker does not show its messages' ages).
   */
  oldestReadySince?: number | null;
}

/**
 * A queue whose enqueues are published as they are made: a broker driver. Only a
 * `TransactionalQueue` can make a job exist if, and only if, the caller's transaction commits.
 */
export interface Queue {
  enqueue(queue: string, payload: unknown, options?: EnqueueOptions): Promise<void>;
  /** Several jobs of one queue at once (one multi-row write or one round of publishes where the driver can). */
  enqueueMany(queue: string, jobs: readonly NewJob[]): Promise<void>;
  work(queue: string, handler: JobHandler, options: WorkOptions): Worker;
  parked(queue: string, options?: { limit?: number; offset?: number }): Promise<ParkedJob[]>;
  /** Moves parked jobs back to ready with fresh attempts; returns how many moved. */
  retryParked(queue: string, ids: string[] | 'all'): Promise<number>;
  /** Deletes parked jobs (all, or the given ids); returns how many were deleted. */
  purgeParked(queue: string, ids?: string[]): Promise<number>;
  /** A page of the queue's jobs matching `filter`, newest first, with the total (`scope` says what a driver can search). */
  search(queue: string, filter: JobFilter, page: { limit: number; offset: number }): Promise<JobSearchResult>;
  stats(queue: string): Promise<QueueStats>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A queue that can enqueue inside the caller's database transaction: the database driver, the
 * outbox in front of a broker, and the decorators around either. The marker keeps a plain
 * `Queue` from passing for one: its enqueue, with one parameter fewer, would otherwise fit.
 */
export interface TransactionalQueue extends Queue {
  readonly transactional: true;
  /** With `trx`, the job is written in the caller's transaction and exists only if it commits. */
  enqueue(queue: string, payload: unknown, options?: EnqueueOptions, trx?: Executor): Promise<void>;
  /** `trx` as for `enqueue`. */
  enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void>;
}

export function emptyStats(queue: string): QueueStats {
  const states: JobState[] = ['ready', 'delayed', 'active', 'parked'];
  const byPriority = Object.fromEntries(
    states.map((s) => [s, Object.fromEntries(PRIORITIES.map((p) => [p, 0]))]),
  ) as QueueStats['byPriority'];
  const byPriorityExact = { ready: true, delayed: true, active: true, parked: true };
  return { queue, counts: { ready: 0, delayed: 0, active: 0, parked: 0 }, byPriority, byPriorityExact };
}
