import type { Clock } from '../clock.js';
import type { Executor } from '../db/database.js';
import { DelegatingQueue } from './delegating-queue.js';
import { PermanentError, type EnqueueOptions, type JobHandler, type NewJob, type TransactionalQueue, type WorkOptions, type Worker } from './queue.js';

/** The header a job's deadline travels in (epoch milliseconds), on every driver. */
export const EXPIRES_AT_HEADER = 'x-expires-at';

/** The reason an expired job is parked with. */
export const EXPIRED = 'expired';

/**
 * Gives jobs a deadline: `expiresAt` of the enqueue, or the queue's time to live (JOB_TTL). A job
 * whose run starts after its deadline is not run: it is parked with the reason `expired`, and its
 * type's `onParked` learns of it as of any parked job. The deadline travels as a header, so every
 * driver keeps it through retries, deferrals and parking.
 */
export class ExpiringQueue extends DelegatingQueue<TransactionalQueue> implements TransactionalQueue {
  readonly transactional = true;

  constructor(
    inner: TransactionalQueue,
    private readonly clock: Clock,
    /** Time to live per queue, in milliseconds; a queue not named has none. */
    private readonly ttlMs: Readonly<Record<string, number>> = {},
  ) {
    super(inner);
  }

  override enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
    return this.inner.enqueue(queue, payload, this.withDeadline(queue, options), trx);
  }

  override enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    return this.inner.enqueueMany(queue, jobs.map((job) => ({ payload: job.payload, options: this.withDeadline(queue, job.options ?? {}) })), trx);
  }

  override work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const checked: JobHandler = (payload, job) => {
      const expiresAt = Number(job.headers[EXPIRES_AT_HEADER]);
      if (expiresAt > 0 && this.clock.now() > expiresAt) {
        return Promise.reject(new PermanentError(`${EXPIRED}: not started before its deadline, ${new Date(expiresAt).toISOString()}`));
      }
      return handler(payload, job);
    };
    return this.inner.work(queue, checked, options);
  }

  private withDeadline(queue: string, options: EnqueueOptions): EnqueueOptions {
    const ttl = this.ttlMs[queue];
    const expiresAt = options.expiresAt ?? (ttl ? this.clock.now() + (options.delayMs ?? 0) + ttl : undefined);
    if (expiresAt === undefined) return options;
    return { ...options, headers: { ...options.headers, [EXPIRES_AT_HEADER]: String(expiresAt) } };
  }
}
