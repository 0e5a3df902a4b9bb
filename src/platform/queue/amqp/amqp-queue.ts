import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../../clock.js';
import type { Store } from '../../store/store.js';
import {
  DEFAULT_PRIORITY,
  PRIORITIES,
  emptyStats,
  type BackoffPolicy,
  type EnqueueOptions,
  type NewJob,
  type JobHandler,
  type ParkedJob,
  type Queue,
  type QueueStats,
  type WorkOptions,
  type Worker,
} from '../queue.js';
import { JobOutcomePolicy } from '../job-outcome.js';
import { parkedJobMatches, summaryOfParked, type JobFilter, type JobSearchResult } from '../job-search.js';
import { AmqpConnection } from './amqp-connection.js';
import { AmqpDedupe } from './amqp-dedupe.js';
import type { JobMessage } from './amqp-message.js';
import { AmqpParked } from './amqp-parked.js';
import { AmqpPublisher } from './amqp-publisher.js';
import { AmqpRouter } from './amqp-router.js';
import { AmqpTopology, DEFAULT_RETRY_TIERS_MS } from './amqp-topology.js';
import { AmqpWorker } from './amqp-worker.js';

export interface AmqpQueueOptions {
  /** e.g. `amqp://user:pass@host:5672/vhost`; `?heartbeat=` overrides the 15 s default. */
  url: string;
  logger: Logger;
  defaultMaxAttempts: number;
  defaultBackoff: BackoffPolicy;
  /** Ascending delays (ms), one retry queue each. Default DEFAULT_RETRY_TIERS_MS. */
  retryTiersMs?: readonly number[];
  /** Prepended to every broker queue name, e.g. `intake.`; default none. */
  queuePrefix?: string;
  /** The broker shows it for this process's connection; default `intake:<host>:<pid>`. */
  connectionName?: string;
  /** Holds dedupe keys (see AmqpDedupe); an enqueue with a dedupeKey fails without one. */
  store?: Store;
  /** How long a dedupe key outlives a job that vanished outside the driver. Default 24 h. */
  dedupeTtlMs?: number;
  /** Tries per publish before an enqueue (or a worker's follow-up) fails. Default 5. */
  publishAttempts?: number;
  /** Bound on one publish try, reconnect wait and confirm included. Default 5 s. */
  publishTimeoutMs?: number;
  /** Bound on declarations, counts and parked-queue reads. Default 10 s. */
  operationTimeoutMs?: number;
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  clock?: Clock;
  random?: Random;
}

/** The most parked messages a search reads (each scan holds them off the queue until it ends). */
const MAX_PARKED_SEARCHED = 10_000;

const TRANSACTIONAL_ENQUEUE =
  'The amqp queue driver cannot enqueue inside a database transaction: transactional enqueues go through the outbox (OutboxQueue), which wraps this driver';

/**
 * RabbitMQ as a queue: one connection per process, a confirm channel for publishing, a channel
 * per worker. See amqp-topology.ts for the queues behind each job queue.
 */
export class AmqpQueue implements Queue {
  private readonly connection: AmqpConnection;
  private readonly topology: AmqpTopology;
  private readonly publisher: AmqpPublisher;
  private readonly router: AmqpRouter;
  private readonly parkedJobs: AmqpParked;
  private readonly dedupe: AmqpDedupe;
  private readonly workers = new Map<AmqpWorker, string>();
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly operationTimeoutMs: number;

  constructor(private readonly options: AmqpQueueOptions) {
    const logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.connection = new AmqpConnection({
      url: options.url,
      logger,
      name: options.connectionName ?? `intake:${os.hostname()}:${process.pid}`,
      ...(options.reconnect && { reconnect: options.reconnect }),
    });
    this.topology = new AmqpTopology({
      connection: this.connection,
      tiersMs: options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS,
      prefix: options.queuePrefix ?? '',
      logger,
      operationTimeoutMs: this.operationTimeoutMs,
    });
    this.publisher = new AmqpPublisher({
      connection: this.connection,
      logger,
      attempts: options.publishAttempts ?? 5,
      attemptTimeoutMs: options.publishTimeoutMs ?? 5_000,
      random: this.random,
      onUnroutable: (routingKey) => this.topology.restore(routingKey),
    });
    this.router = new AmqpRouter(this.publisher, this.topology, this.clock);
    this.dedupe = new AmqpDedupe(options.store, options.dedupeTtlMs ?? 86_400_000);
    this.parkedJobs = new AmqpParked({
      connection: this.connection,
      topology: this.topology,
      router: this.router,
      dedupe: this.dedupe,
      logger,
      operationTimeoutMs: this.operationTimeoutMs,
    });
  }

  /** Publishes every job at once; the confirms come back together. */
  async enqueueMany(queue: string, jobs: readonly NewJob[], trx?: never): Promise<void> {
    if (trx !== undefined) throw new Error(TRANSACTIONAL_ENQUEUE);
    await Promise.all(jobs.map((job) => this.enqueue(queue, job.payload, job.options)));
  }

  /** `trx` is typed `never`: a broker cannot join a database transaction (see TransactionalQueue); a caller that casts its way past the compiler is refused. */
  async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, trx?: never): Promise<void> {
    if (trx !== undefined) throw new Error(TRANSACTIONAL_ENQUEUE);
    const priority = options.priority ?? DEFAULT_PRIORITY;
    if (!PRIORITIES.includes(priority)) throw new RangeError(`priority must be 1..5, got ${priority}`);
    const maxAttempts = options.maxAttempts ?? this.options.defaultMaxAttempts;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a whole number >= 1, got ${maxAttempts}`);
    const now = this.clock.now();
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const job: JobMessage = {
      id: randomUUID(),
      payload,
      body: Buffer.from(JSON.stringify(payload ?? null)),
      priority,
      attempts: 0,
      maxAttempts,
      createdAt: now,
      availableAt: delayMs > 0 ? now + delayMs : 0,
      lastError: null,
      parkedAt: null,
      dedupeKey: options.dedupeKey ?? null,
      headers: options.headers ?? {},
    };
    if (!(await this.dedupe.claim(queue, options.dedupeKey, job.id))) return;
    try {
      await this.router.toReady(queue, job);
    } catch (error) {
      await this.dedupe.release(queue, job.dedupeKey, job.id).catch(() => undefined);
      throw error;
    }
  }

  work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const logger = this.options.logger.child({ queue });
    const outcomes = new JobOutcomePolicy({ backoff: options.backoff ?? this.options.defaultBackoff, random: this.random, logger, onParked: options.onParked });
    const worker = new AmqpWorker({
      queue,
      handler,
      concurrency: Math.max(1, options.concurrency),
      prefetch: Math.max(0, options.prefetch ?? 0),
      outcomes,
      connection: this.connection,
      topology: this.topology,
      router: this.router,
      dedupe: this.dedupe,
      logger,
      clock: this.clock,
      random: this.random,
      onStopped: (w) => this.workers.delete(w),
    });
    this.workers.set(worker, queue);
    worker.start();
    return worker;
  }

  parked(queue: string, options: { limit?: number; offset?: number } = {}): Promise<ParkedJob[]> {
    return this.parkedJobs.list(queue, options.limit ?? 50, options.offset ?? 0);
  }

  /** Searches the parked jobs only: RabbitMQ cannot read ready or delayed messages in place. */
  async search(queue: string, filter: JobFilter, page: { limit: number; offset: number }): Promise<JobSearchResult> {
    const matches = (await this.parkedJobs.list(queue, MAX_PARKED_SEARCHED, 0)).filter((job) => parkedJobMatches(job, filter)).reverse();
    return { jobs: matches.slice(page.offset, page.offset + page.limit).map(summaryOfParked), total: matches.length, scope: 'parked' };
  }

  retryParked(queue: string, ids: string[] | 'all'): Promise<number> {
    return this.parkedJobs.retry(queue, ids);
  }

  purgeParked(queue: string, ids?: string[]): Promise<number> {
    return this.parkedJobs.purge(queue, ids);
  }

  /**
   * Counts from the broker's queue declarations: ready = the queue (including jobs passing
   * through between two retry tiers), delayed = its retry queues, parked = its parked queue
   * (less any a parked-queue scan holds). Active = what this process's workers hold. Only
   * active is known by priority. The queues are read one after another, not as one snapshot: a
   * job moving between two of them meanwhile may be counted twice or not at all.
   */
  async stats(queue: string): Promise<QueueStats> {
    await this.topology.ensure(queue);
    const [ready, parked, ...delayed] = await this.connection.withChannel('counting AMQP queues', async (channel) => {
      const names = [this.topology.mainName(queue), this.topology.parkedName(queue), ...this.topology.retryNames(queue)];
      const counts: number[] = [];
      for (const name of names) counts.push((await channel.checkQueue(name)).messageCount);
      return counts;
    }, this.operationTimeoutMs).catch((error: unknown) => {
      this.topology.forgetIfMissing(queue, error);
      throw error;
    });
    const stats = emptyStats(queue);
    stats.byPriorityExact = { ready: false, delayed: false, active: true, parked: false };
    stats.counts.ready = ready ?? 0;
    stats.counts.parked = parked ?? 0;
    stats.counts.delayed = delayed.reduce((sum, n) => sum + n, 0);
    for (const [worker, workerQueue] of this.workers) {
      if (workerQueue !== queue) continue;
      const active = worker.activeByPriority();
      for (const priority of PRIORITIES) {
        stats.byPriority.active[priority] += active[priority];
        stats.counts.active += active[priority];
      }
    }
    return stats;
  }

  /** Rejects while the connection is down or the broker blocks publishing, or when it does not answer. */
  async ping(): Promise<void> {
    await this.connection.ping();
    await this.connection.withChannel('AMQP ping', (channel) => channel.checkExchange('amq.direct'), Math.min(this.operationTimeoutMs, 2_000));
  }

  /** The broker queues this process declared, for operators and tests. */
  brokerQueues(): string[] {
    return this.topology.brokerQueues();
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((w) => w.stop(0)));
    await this.publisher.close();
    await this.connection.close();
  }
}
