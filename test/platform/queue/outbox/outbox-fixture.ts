import type { JobSearchResult } from '../../../../src/platform/queue/job-search.js';
import { pino } from 'pino';
import type { Clock } from '../../../../src/platform/clock.js';
import type { Database, Executor } from '../../../../src/platform/db/database.js';
import { DatabaseQueue } from '../../../../src/platform/queue/database-queue.js';
import type { OutboxQueue } from '../../../../src/platform/queue/outbox/outbox-queue.js';
import { OutboxRelay, type OutboxRelayOptions } from '../../../../src/platform/queue/outbox/outbox-relay.js';
import {
  PRIORITIES,
  emptyStats,
  type EnqueueOptions,
  type NewJob,
  type ParkedJob,
  type Priority,
  type Queue,
  type QueueStats,
  type Worker,
} from '../../../../src/platform/queue/queue.js';

export const silent = pino({ level: 'silent' });

export interface Published {
  queue: string;
  payload: unknown;
  options: EnqueueOptions;
}

/**
 * An inner queue that only records what is published to it. `beforePublish` runs first: throw
 * there to fail a publish, or await there to hold it in flight.
 */
export class RecordingQueue implements Queue {
  readonly published: Published[] = [];
  beforePublish: (publish: Published) => Promise<void> = async () => {};

  async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
    if (trx) throw new Error('a relay publishes outside any transaction');
    const publish = { queue, payload, options };
    await this.beforePublish(publish);
    this.published.push(publish);
  }

  async enqueueMany(queue: string, jobs: readonly NewJob[], trx?: Executor): Promise<void> {
    for (const job of jobs) await this.enqueue(queue, job.payload, job.options, trx);
  }

  names(): string[] {
    return this.published.map((p) => (p.payload as { name: string }).name);
  }

  /** Everything published counts as ready. */
  async stats(queue: string): Promise<QueueStats> {
    const stats = emptyStats(queue);
    for (const { options } of this.published.filter((p) => p.queue === queue)) {
      stats.counts.ready += 1;
      stats.byPriority.ready[options.priority ?? (2 as Priority)] += 1;
    }
    return stats;
  }

  work(): Worker {
    throw new Error('the outbox tests consume nothing from a recording queue');
  }

  async parked(): Promise<ParkedJob[]> {
    return [];
  }

  async retryParked(): Promise<number> {
    return 0;
  }

  async purgeParked(): Promise<number> {
    return 0;
  }

  async search(): Promise<JobSearchResult> {
    return { jobs: [], total: 0, scope: 'parked' };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}

export function databaseQueue(database: Database, options: { leaseMs?: number; maxAttempts?: number; clock?: Clock } = {}): DatabaseQueue {
  return new DatabaseQueue({
    database,
    logger: silent,
    defaultMaxAttempts: options.maxAttempts ?? 5,
    defaultBackoff: { baseMs: 20, maxMs: 1_000 },
    leaseMs: options.leaseMs ?? 30_000,
    random: () => 0.5,
    ...(options.clock && { clock: options.clock }),
  });
}

/** A relay that polls often and retries fast, as tests want; `options` override. */
export function fastRelay(queue: OutboxQueue, database: Database, options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  return new OutboxRelay({ queue, database, logger: silent, maxIdleMs: 20, retry: { baseMs: 10, maxMs: 40 }, random: () => 0.5, ...options });
}

/** Enqueues `{ name }` jobs through the outbox in one committed transaction. */
export async function commit(database: Database, queue: OutboxQueue, names: string[], options: EnqueueOptions = {}, q = 'jobs'): Promise<void> {
  await database.transaction(async (trx) => {
    for (const name of names) await queue.enqueue(q, { name }, options, trx);
  });
}

export const ZERO_BY_PRIORITY = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
