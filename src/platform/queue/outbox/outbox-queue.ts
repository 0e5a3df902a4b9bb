import { systemClock, type Clock } from '../../clock.js';
import { afterCommit } from '../../db/commit-hooks.js';
import type { Database, Executor } from '../../db/database.js';
import {
  DEFAULT_PRIORITY,
  type EnqueueOptions,
  type NewJob,
  type Priority,
  type Queue,
  type QueueStats,
  type TransactionalQueue,
} from '../queue.js';
import * as outboxSql from './outbox.repository.js';
import { DelegatingQueue } from '../delegating-queue.js';
import { TransferGate } from './transfer-gate.js';

/** The longest that stats() waits for a relay's batch to be confirmed before counting anyway. */
const STATS_WAIT_MS = 1_000;

export interface OutboxQueueOptions {
  /** The queue that jobs are published to; it need not share the database (a broker). */
  inner: Queue;
  /** Where the `outbox` table lives: the database of the business transactions. */
  database: Database;
  clock?: Clock;
}

/**
 * A queue whose transactional enqueues go to the `outbox` table in the caller's transaction,
 * for an `OutboxRelay` to publish to the inner queue once committed. An enqueue without a
 * transaction, and everything else, goes to the inner queue directly.
 */
export class OutboxQueue extends DelegatingQueue implements TransactionalQueue {
  readonly transactional = true;
  private readonly listeners = new Set<() => void>();
  private readonly gate = new TransferGate(STATS_WAIT_MS);
  private readonly clock: Clock;

  constructor(private readonly options: OutboxQueueOptions) {
    super(options.inner);
    this.clock = options.clock ?? systemClock;
  }

  override async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
    if (!trx) return this.inner.enqueue(queue, payload, options);
    await outboxSql.insertOutboxRows(trx, [this.row(queue, payload, options, this.clock.now())]);
    this.wakeAfterCommit(trx);
  }

  override async enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    if (!trx) return this.inner.enqueueMany(queue, jobs);
    if (jobs.length === 0) return;
    const now = this.clock.now();
    await outboxSql.insertOutboxRows(trx, jobs.map((job) => this.row(queue, job.payload, job.options ?? {}, now)));
    this.wakeAfterCommit(trx);
  }

  private row(queue: string, payload: unknown, options: EnqueueOptions, now: number): outboxSql.NewOutbox {
    return {
      queue,
      payload: JSON.stringify(payload ?? null),
      headers: JSON.stringify(options.headers ?? {}),
      priority: options.priority ?? DEFAULT_PRIORITY,
      max_attempts: options.maxAttempts ?? null,
      dedupe_key: options.dedupeKey ?? null,
      available_at: now + Math.max(0, options.delayMs ?? 0),
      created_at: now,
    };
  }

  private wakeAfterCommit(trx: Executor): void {
    afterCommit(trx, () => {
      for (const listener of this.listeners) listener();
    });
  }

  /** Calls `listener` after each commit that wrote to the outbox in this process; returns the unsubscribe. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For a relay: publishing a batch and deleting its rows, which stats() never sees half done. */
  transfer<T>(work: () => Promise<T>): Promise<T> {
    return this.gate.transfer(work);
  }

  /** Jobs committed but not yet published, and when the oldest was written. */
  pending(): Promise<outboxSql.OutboxPending> {
    return outboxSql.pendingOutbox(this.options.database.db);
  }

  /**
   * The inner queue's counts plus the jobs still in the outbox, as ready or delayed. Exact against
   * the relays of this process; a relay elsewhere may be moving a batch, counted twice or not at all.
   */
  override stats(queue: string): Promise<QueueStats> {
    return this.gate.inspect(async () => {
      const stats = structuredClone(await this.inner.stats(queue));
      for (const row of await outboxSql.countOutboxRows(this.options.database.db, queue, this.clock.now())) {
        const state = row.state as 'ready' | 'delayed';
        const count = Number(row.count);
        stats.counts[state] += count;
        stats.byPriority[state][row.priority as Priority] += count;
      }
      return stats;
    });
  }

  /** Closes the inner queue; stop the relays first, since they publish through it. */
  override close(): Promise<void> {
    return this.inner.close();
  }
}
