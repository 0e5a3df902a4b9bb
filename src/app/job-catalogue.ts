import { feedIngestJob, createFeedJobs } from '../catalog/feed/feed.jobs.js';
import { createImageJobs, imageDownloadJob } from '../catalog/images/images.jobs.js';
import { createOrderJobs, orderIntegrationJob } from '../orders/orders.jobs.js';
import { JobRegistry } from '../platform/queue/jobs.js';
import { createWebhookJobs, webhookDeliveryJob } from '../webhooks/webhooks.jobs.js';
import type { Container } from './container.js';
import { VERSION } from './version.js';

/**
 * Every job type. The CLI, the operator API, the dashboard and the queue metrics list these
 * queues; a worker refuses to start unless each has exactly one handler in `createJobRegistry`.
 */
export const JOB_CATALOGUE = [orderIntegrationJob, imageDownloadJob, feedIngestJob, webhookDeliveryJob] as const;

/** The queues the CLI and the operator API can inspect, whether or not this process works them. */
export const QUEUE_NAMES: string[] = JOB_CATALOGUE.map((job) => job.queue);

/** The queues whose every job goes to one outbound destination, by queue: held with it. */
export const QUEUE_DESTINATIONS: ReadonlyMap<string, string> = new Map(JOB_CATALOGUE.flatMap((job) => (job.destination === undefined ? [] : [[job.queue, job.destination] as const])));

/** Every job type with its handler; the registry refuses to start with a job left unhandled. */
export function createJobRegistry(container: Container, thirdPartyUrl: string): { registry: JobRegistry; close: () => Promise<void> } {
  const { config, database, clock, random, logger, metrics } = container;
  const outbound = config.outbound.enabled ? container.outbound : undefined;
  const registry = new JobRegistry(JOB_CATALOGUE)
    .handle(
      createOrderJobs({
        database,
        clock,
        logger,
        metrics,
        thirdPartyUrl,
        thirdPartyTimeoutMs: config.thirdPartyTimeoutMs,
        writeBatch: config.jobWriteBatch,
        events: (db, events) => container.webhookEvents.publish(db, events),
        outbound,
        thirdPartyRatePerS: config.outbound.thirdPartyRatePerS,
      }),
    )
    .handle(
      createImageJobs({
        database,
        clock,
        logger,
        store: container.imageStore,
        temps: container.imageTempFiles,
        images: config.images,
        metrics,
        outbound,
        ratePerSPerHost: config.outbound.imageRatePerSPerHost,
      }),
    )
    .handle(createFeedJobs({ feed: container.feed, lockLeaseMs: config.feed.lockLeaseMs, logger }))
    .handle(
      createWebhookJobs({
        database,
        clock,
        random,
        logger,
        metrics,
        webhooks: config.webhooks,
        userAgent: `intake-webhooks/${VERSION}`,
        writeBatch: config.jobWriteBatch,
        outbound,
        ratePerSPerEndpoint: config.outbound.webhookRatePerSPerEndpoint,
      }),
    );
  return { registry, close: () => registry.close() };
}
