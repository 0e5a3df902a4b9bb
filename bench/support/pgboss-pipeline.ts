/**
 * pg-boss on PostgreSQL doing the BullMQ anchor's work: the same handler, concurrency, priorities,
 * retries and backoff, with its job tables in a schema of its own that is dropped on stop.
 */
import { setMaxListeners } from 'node:events';
import { sql } from 'kysely';
import PgBoss from 'pg-boss';
import type { Config } from '../../src/config.js';
import { createContainer } from '../../src/app/container.js';
import { orderEventsOf } from './order-events.js';
import { orderIntegrationHandler } from '../../src/orders/orders.integration.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import { stderrLogger, type Pipeline } from './pipeline-drivers.js';

/** pg-boss 10's concurrency: `workers` polling loops (work() calls), each running a batch of up to `batchSize` jobs at once. */
export interface PgBossLayout {
  workers: number;
  batchSize: number;
}

const QUEUE = orderIntegrationJob.queue;
const MIN_POLLING_INTERVAL_S = 0.5;

/**
 * One pg-boss instance in a fresh schema of the container's PostgreSQL database: `insert` of each
 * batch in one statement, `workers` × `batchSize` jobs in flight, fetched with metadata so the
 * handler sees the real attempt number. The handler writes the items through the app's container,
 * as row 2 does.
 */
export async function startPgBossPipeline(config: Config, layout: PgBossLayout): Promise<Pipeline> {
  const container = await createContainer(config, { logger: stderrLogger(config) });
  const client = new ThirdPartyClient({ url: config.thirdPartyUrl ?? '', timeoutMs: config.thirdPartyTimeoutMs });
  const handler = orderIntegrationHandler({ database: container.database, client, clock: container.clock, logger: container.logger, events: orderEventsOf(container) });
  const schema = `pgboss_bench_${process.pid}_${Date.now()}`;
  const dropSchema = () => sql`drop schema if exists ${sql.id(schema)} cascade`.execute(container.database.db);
  const boss = new PgBoss({ connectionString: config.databaseUrl, schema, schedule: false });
  boss.on('error', (error) => container.logger.error({ err: error }, 'pg-boss error'));
  const idle = new AbortController().signal;
  // Shared by the handlers running at once, each of whose requests listens to it: not a leak.
  setMaxListeners(0, idle);
  const workerIds: string[] = [];
  const shutdown = async () => {
    try {
      await boss.stop({ graceful: true, wait: true });
      await dropSchema();
    } finally {
      await client.close();
      await container.close();
    }
  };

  const run = async (job: PgBoss.JobWithMetadata<{ itemId: number }>) => {
    try {
      await handler(job.data, { id: job.id, queue: QUEUE, attempt: job.retryCount + 1, maxAttempts: job.retryLimit + 1, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: idle });
    } catch (error) {
      // Failed alone, so that pg-boss's completion of the batch leaves it to its retry and completes the others.
      await boss.fail(QUEUE, job.id, { message: error instanceof Error ? error.message : String(error) });
    }
  };

  try {
    await boss.start();
    await boss.createQueue(QUEUE);
    for (let i = 0; i < layout.workers; i += 1) {
      // The handler wakes its own loop, whose id work() only returns once the loop has started.
      let id: string | undefined = undefined;
      id = await boss.work<{ itemId: number }>(
        QUEUE,
        { batchSize: layout.batchSize, includeMetadata: true, pollingIntervalSeconds: MIN_POLLING_INTERVAL_S },
        async (jobs) => {
          await Promise.all(jobs.map(run));
          // pg-boss 10 sleeps out its polling interval after every batch; a full batch means more may be waiting (pg-boss 12's burstWhenBatchFull).
          if (jobs.length === layout.batchSize && id !== undefined) boss.notifyWorker(id);
        },
      );
      workerIds.push(id);
    }
  } catch (error) {
    await shutdown().catch(() => undefined);
    throw error;
  }

  return {
    container,
    async enqueue(items) {
      await boss.insert(
        items.map((item) => ({
          name: QUEUE,
          data: { itemId: item.id },
          // pg-boss serves the highest number first, as intake does.
          priority: item.priority,
          retryLimit: config.jobMaxAttempts - 1,
          retryDelay: Math.ceil(config.jobBackoffMs / 1000),
          retryBackoff: true,
        })),
      );
      // A polling worker would find them up to half a second later; BullMQ's are woken by Redis.
      for (const id of workerIds) boss.notifyWorker(id);
    },
    async leftovers() {
      const { rows } = await boss
        .getDb()
        .executeSql(`select state, count(*)::int as n from ${schema}.job where name = $1 and state <> 'completed' group by state`, [QUEUE]);
      return (rows as Array<{ state: string; n: number }>).map(({ state, n }) => `${n} pg-boss jobs ${state} after every item completed`);
    },
    stop: shutdown,
  };
}

/**
 * `concurrency` jobs in flight as few polling loops of up to `preferredBatch` jobs: a batch costs
 * one fetch and one completion statement, but waits for its slowest job before the loop fetches again.
 */
export function pgBossLayout(concurrency: number, preferredBatch: number): PgBossLayout {
  let batchSize = Math.min(preferredBatch, concurrency);
  while (concurrency % batchSize !== 0) batchSize -= 1;
  return { workers: concurrency / batchSize, batchSize };
}
