import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { WriteBatcher, type WriteBatchLimits } from '../db/write-batcher.js';
import * as jobsSql from './database-queue.sql.js';
import { JobCompletion } from './job-completion.js';
import type { JobOutcomePolicy } from './job-outcome.js';
import type { JobRow } from './jobs.table.js';
import type { JobHandler, Priority, Worker } from './queue.js';
import { StopDeadline } from './stop-deadline.js';

export interface DatabaseWorkerOptions {
  queue: string;
  handler: JobHandler;
  concurrency: number;
  prefetch: number;
  durableCompletions: boolean;
  /** Finished jobs are deleted together, in batches of these bounds. */
  completionBatch: WriteBatchLimits;
  /** Decides between a retry and parking, and tells the job type's owner of a parked job. */
  outcomes: JobOutcomePolicy;
  database: Database;
  logger: Logger;
  leaseMs: number;
  clock: Clock;
  maxIdleMs: number;
  wakeups: EventEmitter;
  onStopped: (worker: DatabaseWorker) => void;
}

const MIN_IDLE_MS = 10;
const NOT_FLUSHED = { durable: false } as const;

interface InFlight {
  done: Promise<void>;
  abort: AbortController;
}

/**
 * Polls one queue: claims as many jobs as it has free slots, runs them concurrently, keeps
 * their leases alive while they run and records each outcome. Idle polling backs off up to
 * `maxIdleMs`; an enqueue in this process wakes it at once. Finished jobs are deleted in batches,
 * unless their handler deleted them in its own transaction (`JobContext.completion`): a job's slot
 * is freed only once the statement that deletes it has committed.
 */
export class DatabaseWorker implements Worker {
  private readonly lockedBy = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Map<number, InFlight>();
  /** Claimed (prefetched), waiting for a free slot. */
  private readonly ready: JobRow[] = [];
  private running = false;
  private suspended = false;
  private idleMs = MIN_IDLE_MS;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastReclaim = 0;
  private readonly completions: WriteBatcher<number, void>;
  private stopping: Promise<void> | undefined;
  private deadline: StopDeadline | undefined;

  constructor(private readonly o: DatabaseWorkerOptions) {
    this.completions = new WriteBatcher<number, void>({
      ...o.completionBatch,
      database: o.database,
      durable: o.durableCompletions,
      write: async (db, ids) => {
        await jobsSql.deleteCompletedJobs(db, ids, this.lockedBy);
        return ids.map(() => undefined);
      },
    });
  }

  start(): void {
    this.running = true;
    this.o.wakeups.on(this.o.queue, this.onWake);
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    this.heartbeat.unref();
    this.loop = this.poll();
  }

  /**
   * A second call while stopping (a second Ctrl-C) brings the deadline closer and waits for the
   * same stop: `stop(0)` gives the running jobs back at once.
   */
  stop(deadlineMs = 30_000): Promise<void> {
    if (this.stopping) {
      this.deadline?.shorten(deadlineMs);
      return this.stopping;
    }
    if (!this.running) return Promise.resolve();
    this.deadline = new StopDeadline(deadlineMs);
    this.stopping = this.drain(this.deadline);
    return this.stopping;
  }

  suspend(): void {
    this.suspended = true;
    this.wake?.();
  }

  resume(): void {
    this.suspended = false;
    this.onWake();
  }

  private async drain(deadline: StopDeadline): Promise<void> {
    this.running = false;
    this.o.wakeups.off(this.o.queue, this.onWake);
    this.wake?.();
    await this.loop;
    await this.releasePrefetched();
    const settled = Promise.allSettled([...this.inFlight.values()].map((j) => j.done));
    const timedOut = await Promise.race([settled.then(() => false), deadline.reached]);
    deadline.clear();
    clearInterval(this.heartbeat);
    if (timedOut && this.inFlight.size > 0) {
      const ids = [...this.inFlight.keys()];
      this.o.logger.warn({ jobs: ids }, 'shutdown deadline reached; giving unfinished jobs back to the queue');
      // Release before aborting: an aborted handler fails at once, and its failure (a counted
      // attempt, a retry delay or parking) must find the job no longer locked by this worker.
      await this.o.database.write((db) => jobsSql.releaseJobs(db, ids, this.lockedBy, this.o.clock.now())).catch((error: unknown) => {
        this.o.logger.error({ err: error }, 'could not release unfinished jobs; their leases will expire');
      });
      for (const job of this.inFlight.values()) job.abort.abort(new Error('worker stopped'));
    }
    this.o.onStopped(this);
  }

  /** Stops without finishing or releasing anything, as a crashed process would. For tests. */
  abandon(): void {
    this.running = false;
    this.o.wakeups.off(this.o.queue, this.onWake);
    clearInterval(this.heartbeat);
    this.wake?.();
    this.o.onStopped(this);
  }

  private readonly onWake = (): void => {
    this.idleMs = MIN_IDLE_MS;
    this.wake?.();
  };

  private async poll(): Promise<void> {
    while (this.running) {
      if (this.suspended) {
        await this.releasePrefetched();
        await this.sleep(this.o.maxIdleMs);
        continue;
      }
      while (this.ready.length > 0 && this.inFlight.size < this.o.concurrency) this.run(this.ready.shift()!);
      const wanted = this.o.concurrency - this.inFlight.size + this.o.prefetch - this.ready.length;
      // With jobs buffered, wait until half the prefetch is used up: fewer, larger claims.
      const enough = this.ready.length === 0 ? 1 : Math.max(1, Math.floor(this.o.prefetch / 2));
      if (wanted < enough) {
        await this.sleep(this.o.maxIdleMs);
        continue;
      }
      let jobs: JobRow[] = [];
      try {
        await this.reclaimExpired();
        const now = this.o.clock.now();
        const claim = { queue: this.o.queue, limit: wanted, now, leaseUntil: now + this.o.leaseMs, lockedBy: this.lockedBy };
        // Claims, lease extensions and reclaims need no fsync of their own: lost in a crash, they
        // leave the job as an expired lease would, and the next durable commit flushes them.
        jobs = await this.o.database.write((db) => jobsSql.claimJobs(db, this.o.database.dialect, claim), NOT_FLUSHED);
      } catch (error) {
        this.o.logger.error({ err: error }, 'claiming jobs failed; backing off');
      }
      this.ready.push(...jobs);
      if (!this.running) return;
      if (jobs.length === 0) {
        await this.sleep(this.idleMs);
        this.idleMs = Math.min(this.o.maxIdleMs, this.idleMs * 2);
        continue;
      }
      this.idleMs = MIN_IDLE_MS;
    }
  }

  /** Gives claimed jobs that never started back to the queue, without counting an attempt. */
  private async releasePrefetched(): Promise<void> {
    const ids = this.ready.splice(0).map((job) => job.id);
    if (ids.length === 0) return;
    await this.o.database.write((db) => jobsSql.releaseJobs(db, ids, this.lockedBy, this.o.clock.now())).catch((error: unknown) => {
      this.o.logger.error({ err: error }, 'could not release prefetched jobs; their leases will expire');
    });
  }

  private run(job: JobRow): void {
    const abort = new AbortController();
    const done = this.execute(job, abort.signal).finally(() => {
      this.inFlight.delete(job.id);
      this.wake?.();
    });
    this.inFlight.set(job.id, { done, abort });
  }

  private async execute(job: JobRow, signal: AbortSignal): Promise<void> {
    const log = this.o.logger.child({ jobId: job.id, attempt: job.attempts });
    if (job.attempts > job.max_attempts) {
      log.warn('the worker of the last attempt stopped before finishing; parked');
      await this.park(job, 'lease expired: the worker stopped during the last attempt', job.max_attempts);
      return;
    }
    const completion = new JobCompletion(job.id, this.lockedBy);
    try {
      await this.o.handler(JSON.parse(job.payload), {
        id: String(job.id),
        queue: job.queue,
        attempt: job.attempts,
        maxAttempts: job.max_attempts,
        priority: job.priority as Priority,
        enqueuedAt: job.created_at,
        readyAt: Math.max(job.created_at, job.available_at),
        headers: JSON.parse(job.headers) as Record<string, string>,
        signal,
        completion,
      });
      if (!completion.isCommitted) await this.completions.submit(job.id);
    } catch (error) {
      await this.recordFailure(job, error).catch((recordError: unknown) => {
        log.error({ err: recordError }, 'could not record the job failure; its lease will expire and it will run again');
      });
    }
  }

  private async recordFailure(job: JobRow, error: unknown): Promise<void> {
    const outcome = this.o.outcomes.afterFailure(error, { id: job.id, attempt: job.attempts, maxAttempts: job.max_attempts });
    if (outcome.kind === 'park') {
      await this.park(job, outcome.reason, outcome.attempts);
      return;
    }
    const now = this.o.clock.now();
    await this.o.database.write((db) => jobsSql.rescheduleJob(db, job.id, this.lockedBy, outcome.availableAt ?? now + outcome.delayMs, outcome.reason, now, outcome.deferred));
  }

  private async park(job: JobRow, reason: string, attempts: number): Promise<void> {
    const parked = await this.o.database.write((db) => jobsSql.parkJob(db, job.id, this.lockedBy, reason, this.o.clock.now(), attempts));
    // A stopping worker gave the job back before its handler failed: it waits in ready, not parked.
    if (!parked) return;
    await this.o.outcomes.notifyParked(JSON.parse(job.payload), { id: String(job.id), queue: job.queue, attempts, maxAttempts: job.max_attempts, reason });
  }

  private async extendLeases(): Promise<void> {
    if (this.inFlight.size === 0 && this.ready.length === 0) return;
    try {
      await this.o.database.write((db) => jobsSql.extendLeases(db, this.lockedBy, this.o.clock.now() + this.o.leaseMs), NOT_FLUSHED);
    } catch (error) {
      this.o.logger.error({ err: error }, 'extending job leases failed');
    }
  }

  private async reclaimExpired(): Promise<void> {
    const now = this.o.clock.now();
    if (now - this.lastReclaim < Math.min(this.o.leaseMs / 4, 5000)) return;
    this.lastReclaim = now;
    const reclaimed = await this.o.database.write((db) => jobsSql.reclaimExpiredLeases(db, now), NOT_FLUSHED);
    if (reclaimed > 0) this.o.logger.warn({ reclaimed }, 'reclaimed jobs whose worker stopped holding their lease');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

