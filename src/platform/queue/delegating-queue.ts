import type { JobFilter, JobSearchResult } from './job-search.js';
import type { Executor } from '../db/database.js';
import type { EnqueueOptions, JobHandler, NewJob, ParkedJob, Queue, QueueStats, TransactionalQueue, WorkOptions, Worker } from './queue.js';

/** A queue that hands every call to `inner`; decorators extend it and override what they add to. */
export abstract class DelegatingQueue<Inner extends Queue = Queue> implements Queue {
  constructor(readonly inner: Inner) {}

  enqueue(queue: string, payload: unknown, options?: EnqueueOptions): Promise<void> {
    return this.inner.enqueue(queue, payload, options);
  }

  enqueueMany(queue: string, jobs: readonly NewJob[]): Promise<void> {
    return this.inner.enqueueMany(queue, jobs);
  }

  work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    return this.inner.work(queue, handler, options);
  }

  parked(queue: string, options?: { limit?: number; offset?: number }): Promise<ParkedJob[]> {
    return this.inner.parked(queue, options);
  }

  retryParked(queue: string, ids: string[] | 'all'): Promise<number> {
    return this.inner.retryParked(queue, ids);
  }

  purgeParked(queue: string, ids?: string[]): Promise<number> {
    return this.inner.purgeParked(queue, ids);
  }

  search(queue: string, filter: JobFilter, page: { limit: number; offset: number }): Promise<JobSearchResult> {
    return this.inner.search(queue, filter, page);
  }

  stats(queue: string): Promise<QueueStats> {
    return this.inner.stats(queue);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** Closes the inner queue. */
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A decorator of a transactional queue that adds nothing to enqueueing: the caller's transaction goes through as given. */
export abstract class DelegatingTransactionalQueue extends DelegatingQueue<TransactionalQueue> implements TransactionalQueue {
  readonly transactional = true;

  override enqueue(queue: string, payload: unknown, options?: EnqueueOptions, trx?: Executor): Promise<void> {
    return this.inner.enqueue(queue, payload, options, trx);
  }

  override enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    return this.inner.enqueueMany(queue, jobs, trx);
  }
}
