/**
 * The pipelines the benchmark compares: intake's worker role on whichever queue driver the
 * configuration names, and BullMQ doing the same work with the same handler. Each enqueues the
 * seeded items in batches while its worker is already running.
 */
import { connect } from 'amqplib';
import { Queue as BullQueue, Worker as BullWorker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from '../../src/config.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { orderEventsOf } from './order-events.js';
import { orderIntegrationHandler } from '../../src/orders/orders.integration.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import { enqueueJobs } from '../../src/platform/queue/jobs.js';
import { AmqpQueue } from '../../src/platform/queue/amqp/amqp-queue.js';
import { startOutboxRelay, startRole } from '../../src/app/roles.js';
import { webhookDeliveryJob } from '../../src/webhooks/webhooks.jobs.js';
import type { SeededItem } from './pipeline-items.js';

export interface Pipeline {
  container: Container;
  /** Enqueues one batch of jobs, one per item; resolves once they are durably enqueued. */
  enqueue(items: SeededItem[]): Promise<void>;
  /** What is left in the queue after every item completed: anything here is a problem. */
  leftovers(): Promise<string[]>;
  /** Called once the run's user and items are seeded, before the timed part. */
  seeded?(userId: number): Promise<void>;
  stop(): Promise<void>;
}

const QUEUE = orderIntegrationJob.queue;

export function stderrLogger(config: Config): Logger {
  return pino({ level: config.logLevel }, pino.destination(2));
}

/**
 * `ROLE=worker` as `npm start` runs it, plus its container's queue for the enqueues (one
 * transaction per batch). With a broker, the enqueues are outbox rows, published by a relay in
 * this process as the api role's would.
 */
export async function startIntakePipeline(config: Config): Promise<Pipeline> {
  const role = await startRole(config, { logger: stderrLogger(config) });
  const { container } = role;
  const relay = container.outbox && startOutboxRelay(container, container.outbox);
  return {
    container,
    enqueue: (items) =>
      container.database.transaction((trx) =>
        enqueueJobs(container.queue, orderIntegrationJob, items.map((item) => ({ payload: { itemId: item.id }, options: { priority: item.priority } })), trx),
      ),
    async leftovers() {
      const left: string[] = [];
      for (const queue of [QUEUE, webhookDeliveryJob.queue]) {
        const { counts } = await container.queue.stats(queue);
        for (const [state, n] of Object.entries(counts)) if (n > 0) left.push(`${n} ${queue} jobs ${state} after every item completed`);
      }
      return left;
    },
    async stop() {
      const broker = container.outbox?.inner;
      const queues = broker instanceof AmqpQueue ? broker.brokerQueues() : [];
      await relay?.stop();
      await role.stop();
      if (queues.length > 0) await deleteBrokerQueues(config.amqpUrl!, queues);
    },
  };
}

/**
 * BullMQ on Redis: a Queue fed with addBulk and a Worker of the same concurrency, whose processor
 * runs intake's own order handler (the same undici POST, the same item updates, on a database set
 * up by the same container). Jobs carry the same priority, retry count and backoff. The queue's
 * name is unique and it is obliterated on stop.
 */
export async function startBullmqPipeline(config: Config, redisUrl: string): Promise<Pipeline> {
  const container = await createContainer(config, { logger: stderrLogger(config) });
  const client = new ThirdPartyClient({ url: config.thirdPartyUrl ?? '', timeoutMs: config.thirdPartyTimeoutMs });
  const handler = orderIntegrationHandler({ database: container.database, client, clock: container.clock, logger: container.logger, events: orderEventsOf(container) });
  // BullMQ's workers block on Redis, which needs a connection that never gives up on a command.
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = `orders-integration-${process.pid}-${Date.now()}`;
  const prefix = 'intake-bench';
  const queue = new BullQueue(name, { connection: queueConnection, prefix });
  const idle = new AbortController().signal;
  const worker = new BullWorker(
    name,
    (job: Job<{ itemId: number }>, _token?: string, signal?: AbortSignal) =>
      handler(job.data, { id: job.id ?? '', queue: QUEUE, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: signal ?? idle }),
    { connection: workerConnection, prefix, concurrency: config.workerConcurrency },
  );
  worker.on('error', (error) => container.logger.error({ err: error }, 'bullmq worker error'));
  await worker.waitUntilReady();
  return {
    container,
    async enqueue(items) {
      await queue.addBulk(
        items.map((item) => ({
          name: QUEUE,
          data: { itemId: item.id },
          // BullMQ serves the lowest number first; intake the highest.
          opts: { priority: 6 - item.priority, attempts: config.jobMaxAttempts, backoff: { type: 'exponential', delay: config.jobBackoffMs }, removeOnComplete: true },
        })),
      );
    },
    async leftovers() {
      const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
      return Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} BullMQ jobs ${state} after every item completed`);
    },
    async stop() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await Promise.all([queueConnection.quit(), workerConnection.quit()]);
      await client.close();
      await container.close();
    },
  };
}

/** The bench's broker queues (retry tiers and parked included) go once the row has run. */
async function deleteBrokerQueues(url: string, queues: readonly string[]): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
  } finally {
    await connection.close();
  }
}
