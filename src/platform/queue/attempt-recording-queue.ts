import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../telemetry/metrics.js';
import { DelegatingTransactionalQueue } from './delegating-queue.js';
import { JobAttemptRecorder } from './job-attempts.recorder.js';
import type { AttemptOutcome } from './job-attempts.table.js';
import { isFinalFailure } from './job-outcome.js';
import {
  DeferredError,
  type JobContext,
  type JobHandler,
  type ParkedHandler,
  type TransactionalQueue,
  type WorkOptions,
  type Worker,
} from './queue.js';

/** Bound on the jobs remembered between two events of theirs (a final failure and its parking; a held attempt's deferrals). */
const MAX_REMEMBERED = 10_000;

type JobOrigin = Pick<JobContext, 'priority' | 'headers' | 'enqueuedAt'>;

/**
 * Records every attempt of every job in the attempt log (JobAttemptRecorder): when it started,
 * how long it ran and how it ended (completed, retried, failed, given back), and when a job is
 * parked, however that happened (its driver calls `onParked`, even for a job whose worker died
 * during its last attempt). A deferral is no attempt, and a held job defers every few hundred
 * milliseconds: only its first deferral per attempt (in this process) gets a row. The handler
 * waits for nothing: recording is an append to a buffer.
 */
export class AttemptRecordingQueue extends DelegatingTransactionalQueue {
  /** What the row of a job's parking takes from its final failure: its worker is the one that parks it. */
  private readonly finalFailures = new Map<string, JobOrigin>();
  /** The attempts (queue, job, attempt) whose first deferral has its row. */
  private readonly deferrals = new Set<string>();

  constructor(
    inner: TransactionalQueue,
    private readonly recorder: JobAttemptRecorder,
    private readonly clock: Clock,
  ) {
    super(inner);
  }

  override work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const recorded: JobHandler = async (payload, job) => {
      const startedAt = this.clock.now();
      const started = performance.now();
      try {
        await handler(payload, job);
      } catch (error) {
        this.recordFailure(payload, job, error, startedAt, elapsed(started));
        throw error;
      }
      this.recordAttempt(payload, job, 'completed', startedAt, elapsed(started), null);
    };
    const onParked: ParkedHandler = async (payload, notice) => {
      const key = jobKey(queue, notice.id);
      const origin = this.finalFailures.get(key);
      this.finalFailures.delete(key);
      this.recorder.record({
        queue,
        jobId: notice.id,
        attempt: notice.attempts,
        priority: origin?.priority ?? null,
        outcome: 'parked',
        startedAt: this.clock.now(),
        durationMs: null,
        error: notice.reason,
        payload,
        headers: origin?.headers ?? null,
        enqueuedAt: origin?.enqueuedAt ?? null,
      });
      await options.onParked?.(payload, notice);
    };
    return this.inner.work(queue, recorded, { ...options, onParked });
  }

  /** Closes the inner queue (its workers stop), then writes the attempts still buffered. */
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.recorder.close();
    }
  }

  private recordFailure(payload: unknown, job: JobContext, error: unknown, startedAt: number, durationMs: number): void {
    const reason = error instanceof Error ? error.message : String(error);
    // Aborted: the worker is stopping and has given the job back (see Worker.stop).
    if (job.signal.aborted) return this.recordAttempt(payload, job, 'given back', startedAt, durationMs, reason);
    if (error instanceof DeferredError) {
      const key = `${jobKey(job.queue, job.id)}\n${job.attempt}`;
      if (this.deferrals.has(key)) return;
      remember(this.deferrals, key);
      return this.recordAttempt(payload, job, 'deferred', startedAt, durationMs, reason);
    }
    const final = isFinalFailure(error, job.attempt, job.maxAttempts);
    if (final) {
      const key = jobKey(job.queue, job.id);
      if (this.finalFailures.size >= MAX_REMEMBERED && !this.finalFailures.has(key)) this.finalFailures.delete(this.finalFailures.keys().next().value!);
      this.finalFailures.set(key, { priority: job.priority, headers: job.headers, enqueuedAt: job.enqueuedAt });
    }
    this.recordAttempt(payload, job, final ? 'failed' : 'retried', startedAt, durationMs, reason);
  }

  private recordAttempt(payload: unknown, job: JobContext, outcome: AttemptOutcome, startedAt: number, durationMs: number, error: string | null): void {
    if (outcome !== 'deferred' && this.deferrals.size > 0) this.deferrals.delete(`${jobKey(job.queue, job.id)}\n${job.attempt}`);
    this.recorder.record({
      queue: job.queue,
      jobId: job.id,
      attempt: job.attempt,
      priority: job.priority,
      outcome,
      startedAt,
      durationMs,
      error,
      payload,
      headers: job.headers,
      enqueuedAt: job.enqueuedAt,
    });
  }
}

export interface AttemptLogDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** `queue` with its jobs' attempts recorded (JOB_ATTEMPT_LOG), or `queue` itself when the log is off. */
export function withAttemptLog(queue: TransactionalQueue, settings: { enabled: boolean }, deps: AttemptLogDeps): TransactionalQueue {
  if (!settings.enabled) return queue;
  const recorder = new JobAttemptRecorder({ database: deps.database, logger: deps.logger.child({ component: 'job-attempts' }), metrics: deps.metrics });
  return new AttemptRecordingQueue(queue, recorder, deps.clock);
}

function jobKey(queue: string, id: string): string {
  return `${queue}\n${id}`;
}

function remember(keys: Set<string>, key: string): void {
  if (keys.size >= MAX_REMEMBERED) keys.delete(keys.values().next().value!);
  keys.add(key);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
