import os from 'node:os';
import type { Logger } from 'pino';
import type { Config, QueueDriver, StoreDriver } from '../config.js';
import type { Clock, Random } from '../platform/clock.js';
import type { Database, DatabaseOptions } from '../platform/db/database.js';
import { AmqpQueue } from '../platform/queue/amqp/amqp-queue.js';
import { withAttemptLog } from '../platform/queue/attempt-recording-queue.js';
import { DatabaseQueue } from '../platform/queue/database-queue.js';
import { ExpiringQueue } from '../platform/queue/expiring-queue.js';
import { MeteredQueue } from '../platform/queue/metered-queue.js';
import { QueueHistory } from '../platform/queue/queue-history.js';
import { queueWaitMetrics } from '../platform/queue/queue-wait.js';
import { OutboxQueue } from '../platform/queue/outbox/outbox-queue.js';
import { PausableQueue } from '../platform/queue/pausable-queue.js';
import { PausedQueues } from '../platform/queue/paused-queues.js';
import { queuePausedMetric } from '../platform/queue/queue-pauses.js';
import type { TransactionalQueue } from '../platform/queue/queue.js';
import { ProcessLocks, StoreLocks, type IdempotencyLocks } from '../platform/idempotency/idempotency-locks.js';
import { DatabaseStore } from '../platform/store/database-store.js';
import { RedisStore } from '../platform/store/redis-store.js';
import type { Store } from '../platform/store/store.js';
import type { Metrics } from '../platform/telemetry/metrics.js';

/** The database of DATABASE_URL (and its replica), as the configuration describes it. */
export function databaseOptions(config: Config, logger?: Logger): DatabaseOptions {
  return {
    url: config.databaseUrl,
    readUrl: config.databaseReadUrl,
    poolMax: config.databasePoolMax,
    groupCommit: config.groupCommit,
    sqlite: { synchronous: config.sqliteSynchronous, logFlush: config.sqliteLogFlush, checkpoint: config.sqliteCheckpoint, cacheMb: config.sqliteCacheMb },
    logger: logger?.child({ component: 'database' }),
  };
}

export interface StoreDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
}

export type StoreFactory = (config: Config, deps: StoreDeps) => Store;

/** One factory per STORE_DRIVER: the `kv` table, or Redis. A driver name without one does not compile. */
export const storeFactories: Record<StoreDriver, StoreFactory> = {
  database: (_config, { database, clock }) => new DatabaseStore(database, clock),
  redis: (config, { logger }) => new RedisStore({ url: config.redisUrl!, keyPrefix: config.redisKeyPrefix, logger: logger.child({ component: 'store' }) }),
};

export function createStore(config: Config, database: Database, clock: Clock, logger: Logger): Store {
  return storeFactories[config.storeDriver](config, { database, clock, logger });
}

/**
 * Where keyed requests in flight hold their Idempotency-Keys: in Redis, shared by every process;
 * with the database store, in the process (the records, in the same database, are the shared
 * claim, and a lock in the `kv` table would cost each request a commit of its own).
 */
export function idempotencyLocks(config: Config, store: Store, clock: Clock): IdempotencyLocks {
  return config.storeDriver === 'database' ? new ProcessLocks(clock) : new StoreLocks(store);
}

export interface QueueDeps {
  database: Database;
  store: Store;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  /** The job queues whose depth the metrics report. */
  queueNames: readonly string[];
}

/** The queue a driver builds, always one that can join the business transaction, and the outbox that lets it where it needs one. */
export interface DriverQueue {
  queue: TransactionalQueue;
  outbox?: OutboxQueue;
}

export type QueueFactory = (config: Config, deps: QueueDeps) => DriverQueue;

/** One factory per QUEUE_DRIVER. A driver name without one does not compile. */
export const queueFactories: Record<QueueDriver, QueueFactory> = {
  // The `jobs` table, whose enqueues join the business transaction by themselves.
  database: (config, deps) => ({
    queue: new DatabaseQueue({ ...commonOptions(config, deps), database: deps.database, leaseMs: config.jobLeaseMs, completionBatch: config.jobWriteBatch }),
  }),
  // RabbitMQ behind the transactional outbox, whose relay the api role runs.
  amqp: (config, deps) => {
    const broker = new AmqpQueue({
      ...commonOptions(config, deps),
      url: config.amqpUrl!,
      retryTiersMs: config.amqpRetryTiersMs,
      queuePrefix: config.amqpQueuePrefix,
      connectionName: `intake-${config.role}@${os.hostname()}:${process.pid}`,
      store: deps.store,
    });
    const outbox = new OutboxQueue({ inner: broker, database: deps.database, clock: deps.clock });
    return { queue: outbox, outbox };
  },
};

function commonOptions(config: Config, deps: QueueDeps) {
  return {
    logger: deps.logger.child({ component: 'queue' }),
    defaultMaxAttempts: config.jobMaxAttempts,
    defaultBackoff: { baseMs: config.jobBackoffMs, maxMs: config.jobBackoffMaxMs },
    clock: deps.clock,
    random: deps.random,
  };
}

/** QUEUE_DRIVER's queue, metered, with the outbox it may need. */
export function createQueue(config: Config, deps: QueueDeps): DriverQueue & { history: QueueHistory } {
  const { queue, outbox } = queueFactories[config.queueDriver](config, deps);
  // Reported by every deployment, 0 where the queue needs no outbox, so that dashboards always find the series.
  const pending = () => outbox?.pending() ?? Promise.resolve({ count: 0, oldestCreatedAt: null });
  deps.metrics.gauge('outbox_pending_jobs', 'Jobs committed to the outbox and not yet published', [], async (gauge) => gauge.set((await pending()).count));
  deps.metrics.gauge('outbox_lag_seconds', 'Age of the oldest job waiting in the outbox (0 when it is empty)', [], async (gauge) => {
    const { oldestCreatedAt } = await pending();
    gauge.set(oldestCreatedAt === null ? 0 : Math.max(0, (deps.clock.now() - oldestCreatedAt) / 1000));
  });
  const history = new QueueHistory({ database: deps.database, clock: deps.clock, logger: deps.logger.child({ component: 'queue-history' }) });
  // Innermost: a pause stops the driver's own worker.
  const paused = new PausedQueues({ database: deps.database, logger: deps.logger.child({ component: 'queue-pauses' }), pollMs: config.queuePausePollMs });
  const pausable = new PausableQueue(queue, paused, deps.logger.child({ component: 'queue' }));
  queuePausedMetric(deps.metrics, deps.database, deps.queueNames);
  const metered = new MeteredQueue(new ExpiringQueue(withAttemptLog(pausable, config.jobAttemptLog, deps), deps.clock, config.jobTtlMs), deps.metrics, deps.queueNames, history);
  queueWaitMetrics(deps.metrics, { recentStats: () => metered.recentStats(), warnAfterMs: config.queueWaitWarnMs, clock: deps.clock });
  return { queue: metered, outbox, history };
}
