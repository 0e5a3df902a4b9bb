import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../clock.js';
import { afterCommit } from '../db/commit-hooks.js';
import type { Database, Executor } from '../db/database.js';
import { DEFAULT_WRITE_BATCH, type WriteBatchLimits } from '../db/write-batcher.js';
import { DatabaseWorker } from './database-worker.js';
import { JobOutcomePolicy } from './job-outcome.js';
import * as jobsSql from './database-queue.sql.js';
import { searchJobs } from './database-queue-search.sql.js';
import type { JobFilter, JobSearchResult } from './job-search.js';
import type { JobRow } from './jobs.table.js';
import {
  DEFAULT_PRIORITY,
  emptyStats,
  type EnqueueOptions,
  type JobHandler,
  type JobState,
  type NewJob,
  type ParkedJob,
  type Priority,
  type QueueStats,
  type TransactionalQueue,
  type WorkOptions,
  type Worker,
} from './queue.js';

export interface DatabaseQueueOptions {
  database: Database;
  logger: Logger;
  defaultMaxAttempts: number;
  defaultBackoff: { baseMs: number; maxMs: number };
  leaseMs: number;
  clock?: Clock;
  random?: Random;
  /** Longest pause between polls of an idle queue. */
  maxIdleMs?: number;
  /** Bounds of the batches in which a worker deletes its finished jobs. */
  completionBatch?: WriteBatchLimits;
}

/** The `jobs` table as a queue: claims by priority then FIFO, leases, retries and parking. */
export class DatabaseQueue implements TransactionalQueue {
  readonly transactional = true;
  private readonly wakeups = new EventEmitter().setMaxListeners(0);
  private readonly workers = new Set<DatabaseWorker>();
  private readonly clock: Clock;

  constructor(private readonly options: DatabaseQueueOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
    const { database } = this.options;
    const job = this.newJob(queue, payload, options, this.clock.now());
    if (trx) await jobsSql.insertJobsCoalesced(trx, [job]);
    // In a transaction of its own, which is run again when MySQL aborts it to break a deadlock with a worker's claim.
    else await database.transaction((own) => jobsSql.insertJob(own, database.dialect, job));
    if (!options.delayMs) afterCommit(trx ?? database.db, () => this.wakeups.emit(queue));
  }

  async enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    if (jobs.length === 0) return;
    if (jobs.length === 1) return this.enqueue(queue, jobs[0]!.payload, jobs[0]!.options, trx);
    const now = this.clock.now();
    const rows = jobs.map((job) => this.newJob(queue, job.payload, job.options ?? {}, now));
    // Without a caller transaction, the chunks of a large batch still land together or not at all.
    if (trx) await jobsSql.insertJobsCoalesced(trx, rows);
    else await this.options.database.transaction((own) => jobsSql.insertManyJobs(own, rows));
    if (jobs.some((job) => !job.options?.delayMs)) afterCommit(trx ?? this.options.database.db, () => this.wakeups.emit(queue));
  }

  private newJob(queue: string, payload: unknown, options: EnqueueOptions, now: number): jobsSql.NewJob {
    return {
      queue,
      payload: JSON.stringify(payload ?? null),
      headers: JSON.stringify(options.headers ?? {}),
      priority: options.priority ?? DEFAULT_PRIORITY,
      state: 'ready',
      max_attempts: options.maxAttempts ?? this.options.defaultMaxAttempts,
      available_at: now + Math.max(0, options.delayMs ?? 0),
      lease_until: null,
      locked_by: null,
      dedupe_key: options.dedupeKey ?? null,
      last_error: null,
      created_at: now,
      updated_at: now,
    };
  }

  work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const logger = this.options.logger.child({ queue });
    const outcomes = new JobOutcomePolicy({
      backoff: options.backoff ?? this.options.defaultBackoff,
      random: this.options.random ?? systemRandom,
      logger,
      onParked: options.onParked,
    });
    const worker = new DatabaseWorker({
      queue,
      handler,
      concurrency: options.concurrency,
      prefetch: options.prefetch ?? 0,
      durableCompletions: options.durableCompletions ?? true,
      completionBatch: this.options.completionBatch ?? DEFAULT_WRITE_BATCH,
      outcomes,
      database: this.options.database,
      logger,
      leaseMs: this.options.leaseMs,
      clock: this.clock,
      maxIdleMs: this.options.maxIdleMs ?? 500,
      wakeups: this.wakeups,
      onStopped: (w) => this.workers.delete(w),
    });
    this.workers.add(worker);
    worker.start();
    return worker;
  }

  async parked(queue: string, options: { limit?: number; offset?: number } = {}): Promise<ParkedJob[]> {
    const rows = await jobsSql.listParkedJobs(this.options.database.db, queue, options.limit ?? 50, options.offset ?? 0);
    return rows.map((row) => ({
      id: String(row.id),
      queue: row.queue,
      payload: JSON.parse(row.payload) as unknown,
      priority: row.priority as Priority,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      lastError: row.last_error,
      createdAt: row.created_at,
      parkedAt: row.updated_at,
    }));
  }

  async retryParked(queue: string, ids: string[] | 'all'): Promise<number> {
    const moved = await jobsSql.requeueParkedJobs(this.options.database.db, queue, ids === 'all' ? 'all' : toJobIds(ids), this.clock.now());
    if (moved > 0) this.wakeups.emit(queue);
    return moved;
  }

  purgeParked(queue: string, ids?: string[]): Promise<number> {
    return jobsSql.deleteParkedJobs(this.options.database.db, queue, ids ? toJobIds(ids) : undefined);
  }

  async search(queue: string, filter: JobFilter, page: { limit: number; offset: number }): Promise<JobSearchResult> {
    const now = this.clock.now();
    const { rows, total } = await searchJobs(this.options.database.db, queue, filter, now, page);
    const stateOf = (row: JobRow): JobState => (row.state === 'ready' && row.available_at > now ? 'delayed' : row.state);
    const jobs = rows.map((row) => ({
      id: String(row.id),
      queue: row.queue,
      state: stateOf(row),
      payload: JSON.parse(row.payload) as unknown,
      priority: row.priority as Priority,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      lastError: row.last_error,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    }));
    return { jobs, total, scope: 'all' };
  }

  async stats(queue: string): Promise<QueueStats> {
    const stats = emptyStats(queue);
    for (const row of await jobsSql.countJobs(this.options.database.db, queue, this.clock.now())) {
      const state = row.state as JobState;
      const count = Number(row.count);
      stats.counts[state] += count;
      stats.byPriority[state][row.priority as Priority] += count;
      if (state === 'ready') stats.oldestReadySince = Math.min(stats.oldestReadySince ?? Infinity, Number(row.since));
    }
    stats.oldestReadySince ??= null;
    return stats;
  }

  ping(): Promise<void> {
    return this.options.database.ping();
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop(0)));
  }
}

function toJobIds(ids: string[]): number[] {
  return ids.map(Number).filter((id) => Number.isSafeInteger(id) && id > 0);
}
