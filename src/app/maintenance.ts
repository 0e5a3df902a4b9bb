import { Cron } from 'croner';
import { LongWaitLog } from '../platform/queue/queue-wait.js';
import { QUEUE_NAMES, type Container } from './container.js';
import { deleteExpiredIdempotencyRecords } from '../platform/idempotency/idempotency.repository.js';
import { deleteSettledDestinations } from '../platform/outbound/destinations.repository.js';
import { sweepJobAttempts } from '../platform/queue/job-attempt-retention.js';
import { deleteWorkerProcessesSeenBefore } from '../platform/queue/worker-processes.repository.js';
import { sweepWebhookLog } from '../webhooks/webhook-retention.js';
import { pruneChangeHistory } from '../catalog/catalog-changes.repository.js';

const CHUNK = 5000;

/**
 * Periodic housekeeping, run by the scheduler role under a store lock so that one instance does
 * it: expired store keys and idempotency records, webhook events and deliveries older than
 * WEBHOOK_LOG_DAYS, deleted in small chunks so that no single write holds the database for long,
 * and the circuits of destinations that have been closed and untouched for a day (webhook
 * endpoints and image hosts come and go), and queue history past its keeping (one-minute buckets
 * after a day, five-minute ones after two weeks); and the rows of worker processes not seen for an hour;
 * and job attempts older than JOB_ATTEMPT_LOG_HOURS; and the catalog's tombstones and feed-run
 * change lists older than CATALOG_TOMBSTONE_RETENTION_DAYS.
 */
export function startMaintenance(container: Container, schedule = '0 * * * * *'): { stop(): void } {
  const log = container.logger.child({ task: 'maintenance' });
  const waits = new LongWaitLog({ queue: container.queue, queueNames: QUEUE_NAMES, warnAfterMs: container.config.queueWaitWarnMs, clock: container.clock, logger: log });
  const job = new Cron(schedule, { timezone: 'UTC', protect: true, catch: (error) => log.error({ err: error }, 'maintenance failed') }, async () => {
    await sweep(container, log);
    await waits.check();
  });
  return { stop: () => job.stop() };
}

export interface Swept {
  keys: number;
  records: number;
  webhookDeliveries: number;
  webhookEvents: number;
  destinations: number;
  historyBuckets: number;
  workerProcesses: number;
  jobAttempts: number;
  /** API deletions and feed-run change lists older than CATALOG_TOMBSTONE_RETENTION_DAYS. */
  catalogChanges: number;
}

const SETTLED_DESTINATION_MS = 24 * 3_600_000;
const GONE_WORKER_PROCESS_MS = 3_600_000;

export async function sweep(container: Container, log = container.logger): Promise<Swept> {
  const owner = `${process.pid}:${container.clock.now()}`;
  if (!(await container.store.setIfAbsent('lock:maintenance', owner, 10 * 60_000))) return { keys: 0, records: 0, webhookDeliveries: 0, webhookEvents: 0, destinations: 0, historyBuckets: 0, workerProcesses: 0, jobAttempts: 0, catalogChanges: 0 };
  try {
    const { store } = container;
    const keys = store.sweepExpired ? await drain(() => store.sweepExpired!(CHUNK)) : 0;
    const records = await drain(() => container.database.write((db) => deleteExpiredIdempotencyRecords(db, container.clock.now(), CHUNK)));
    if (keys + records > 0) log.info({ keys, records }, 'swept expired keys and idempotency records');
    const { logDays } = container.config.webhooks;
    const webhooks = await sweepWebhookLog(container.database, container.clock.now(), logDays);
    if (webhooks.deliveries + webhooks.events > 0) {
      log.info({ deliveries: webhooks.deliveries, events: webhooks.events, logDays, more: webhooks.more }, 'swept webhook deliveries and events older than WEBHOOK_LOG_DAYS');
    }
    const destinations = await container.database.write((db) => deleteSettledDestinations(db, container.clock.now() - SETTLED_DESTINATION_MS));
    if (destinations > 0) log.info({ destinations }, 'swept the circuits of destinations closed and untouched for a day');
    const historyBuckets = await container.history.sweep();
    const workerProcesses = await container.database.write((db) => deleteWorkerProcessesSeenBefore(db, container.clock.now() - GONE_WORKER_PROCESS_MS));
    if (workerProcesses > 0) log.info({ workerProcesses }, 'swept the worker processes not seen for an hour');
    const { retentionHours } = container.config.jobAttemptLog;
    const jobAttempts = await sweepJobAttempts(container.database, container.clock.now(), retentionHours, { queues: QUEUE_NAMES });
    if (jobAttempts.deleted > 0) log.info({ jobAttempts: jobAttempts.deleted, retentionHours, more: jobAttempts.more }, 'swept job attempts older than JOB_ATTEMPT_LOG_HOURS');
    const retentionDays = container.config.catalogTombstoneRetentionDays;
    const pruned = await container.database.transaction((trx) => pruneChangeHistory(trx, container.clock.now() - retentionDays * 86_400_000));
    const catalogChanges = pruned.tombstones + pruned.runChanges;
    if (catalogChanges > 0) log.info({ ...pruned, retentionDays }, 'swept catalog tombstones and feed-run change lists older than CATALOG_TOMBSTONE_RETENTION_DAYS');
    return { keys, records, webhookDeliveries: webhooks.deliveries, webhookEvents: webhooks.events, destinations, historyBuckets, workerProcesses, jobAttempts: jobAttempts.deleted, catalogChanges };
  } finally {
    await container.store.deleteIfValue('lock:maintenance', owner);
  }
}

async function drain(deleteChunk: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteChunk();
    total += deleted;
    if (deleted < CHUNK) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
