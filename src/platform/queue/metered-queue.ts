import { afterCommit } from '../db/commit-hooks.js';
import { DelegatingQueue } from './delegating-queue.js';
import { isFinalFailure } from './job-outcome.js';
import type { JobOutcome, QueueHistory } from './queue-history.js';
import type { Executor } from '../db/database.js';
import type { Metrics } from '../telemetry/metrics.js';
import { activeTraceparent, inSpan, isTracing, SpanKind } from '../telemetry/tracing.js';
import {
  DeferredError,
  DEFAULT_PRIORITY,
  PRIORITIES,
  type EnqueueOptions,
  type JobHandler,
  type JobState,
  type NewJob,
  type ParkedHandler,
  type QueueStats,
  type TransactionalQueue,
  type WorkOptions,
  type Worker,
} from './queue.js';

const STATES: JobState[] = ['ready', 'delayed', 'active', 'parked'];

/** While a span records, the job carries the enqueue span's context, so that its handler continues the trace. */
function withTraceparent(options: EnqueueOptions): EnqueueOptions {
  const traceparent = isTracing() ? activeTraceparent() : undefined;
  return traceparent ? { ...options, headers: { ...options.headers, traceparent } } : options;
}

/**
 * Traces and counts what passes through any queue driver: a producer span per enqueue, whose
 * context the jobs carry in their `traceparent` header, and a consumer span per handler run under
 * it. Counts jobs enqueued by queue and priority, jobs finished
 * by outcome (completed, retried, failed at once, parked; a deferral is counted apart and is no
 * finished job for the throughput), handler durations, and the depth of
 * each queue by state and priority, read from `stats` when scraped (at most every `depthMaxAgeMs`).
 */
export class MeteredQueue extends DelegatingQueue<TransactionalQueue> implements TransactionalQueue {
  readonly transactional = true;
  private readonly enqueued;
  private readonly finished;
  private readonly duration;
  private readonly wait;
  private depth: { at: number; stats: QueueStats[] } | undefined;

  constructor(
    inner: TransactionalQueue,
    metrics: Metrics,
    private readonly queues: readonly string[],
    private readonly history?: QueueHistory,
    private readonly depthMaxAgeMs = 5_000,
  ) {
    super(inner);
    this.enqueued = metrics.counter('jobs_enqueued_total', 'Jobs enqueued', ['queue', 'priority']);
    this.finished = metrics.counter('jobs_finished_total', 'Job attempts finished, by outcome: completed, retried, failed (permanently), parked, deferred (not counted as an attempt)', ['queue', 'outcome']);
    this.duration = metrics.histogram('job_duration_seconds', 'Handler run time per attempt', ['queue'], [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60]);
    this.wait = metrics.histogram('job_wait_seconds', 'How long an attempt waited for a worker, from the moment it could run (enqueue, or the end of its delay, backoff or hold) to its start', ['queue'], [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800]);
    metrics.gauge('queue_depth', 'Jobs by queue, state and priority (where the driver can count by priority)', ['queue', 'state', 'priority'], async (gauge) => {
      gauge.reset();
      for (const stats of await this.recentStats()) {
        for (const state of STATES) {
          if (stats.byPriorityExact?.[state] === false) gauge.set({ queue: stats.queue, state, priority: 'all' }, stats.counts[state]);
          else for (const priority of PRIORITIES) gauge.set({ queue: stats.queue, state, priority: String(priority) }, stats.byPriority[state][priority]);
        }
      }
    });
  }

  override async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
    await inSpan(`enqueue ${queue}`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': queue } }, async () => {
      await this.inner.enqueue(queue, payload, withTraceparent(options), trx);
    });
    this.countAfterCommit(queue, [options], trx);
  }

  override async enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    if (jobs.length === 0) return;
    const attributes = { 'messaging.destination.name': queue, 'messaging.batch.message_count': jobs.length };
    await inSpan(`enqueue ${queue}`, { kind: SpanKind.PRODUCER, attributes }, async () => {
      await this.inner.enqueueMany(queue, jobs.map((job) => ({ payload: job.payload, options: withTraceparent(job.options ?? {}) })), trx);
    });
    this.countAfterCommit(queue, jobs.map((job) => job.options ?? {}), trx);
  }

  /** A job enqueued in a transaction that rolls back was never enqueued. */
  private countAfterCommit(queue: string, jobs: readonly EnqueueOptions[], trx: Executor | undefined): void {
    const count = () => {
      for (const options of jobs) this.enqueued.inc({ queue, priority: String(options.priority ?? DEFAULT_PRIORITY) });
    };
    if (trx) afterCommit(trx, count);
    else count();
  }

  override work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const metered: JobHandler = (payload, job) => {
      const attributes = { 'messaging.destination.name': queue, 'messaging.message.id': job.id, 'intake.job.attempt': job.attempt };
      return inSpan(`process ${queue}`, { kind: SpanKind.CONSUMER, attributes, traceparent: job.headers.traceparent }, async () => {
        const stop = this.duration.startTimer({ queue });
        const waitMs = this.history?.waitSince(job.readyAt) ?? Math.max(0, Date.now() - job.readyAt);
        try {
          await handler(payload, job);
          this.countFinished(queue, 'completed', waitMs);
        } catch (error) {
          // A held job's deferral is no start: it waits on, and its wait counts when it runs.
          if (error instanceof DeferredError) this.finished.inc({ queue, outcome: 'deferred' });
          else this.countFinished(queue, isFinalFailure(error, job.attempt, job.maxAttempts) ? 'failed' : 'retried', waitMs);
          throw error;
        } finally {
          stop();
        }
      });
    };
    const onParked: ParkedHandler = async (payload, notice) => {
      this.countFinished(queue, 'parked');
      await options.onParked?.(payload, notice);
    };
    return this.inner.work(queue, metered, { ...options, onParked });
  }

  /** Writes the last history counts while the database is still open. */
  override async close(): Promise<void> {
    await this.history?.stop();
    await super.close();
  }

  /** `waitMs`: the attempt's wait for a worker, for an attempt that ran (not for the parking that follows one). */
  private countFinished(queue: string, outcome: JobOutcome, waitMs?: number): void {
    this.finished.inc({ queue, outcome });
    if (waitMs !== undefined) this.wait.observe({ queue }, waitMs / 1000);
    this.history?.finished(queue, outcome, waitMs);
  }

  /** The stats of every queue it meters, read from the driver at most every `depthMaxAgeMs`: what the scrape-time gauges report. */
  async recentStats(): Promise<QueueStats[]> {
    if (!this.depth || Date.now() - this.depth.at > this.depthMaxAgeMs) {
      this.depth = { at: Date.now(), stats: await Promise.all(this.queues.map((queue) => this.inner.stats(queue))) };
    }
    return this.depth.stats;
  }
}
