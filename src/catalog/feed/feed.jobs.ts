import type { Logger } from 'pino';
import { defineJob } from '../../platform/queue/jobs.js';
import type { JobHandler, WorkOptions } from '../../platform/queue/queue.js';
import type { FeedIngestService } from './feed-ingest.service.js';

/**
 * An ingestion an operator asked for: queued by the API, run by a worker, so that the API role
 * never parses a feed. One attempt: a run records its own failure, and the operator asks again.
 */
export const feedIngestJob = defineJob<Record<string, never>>('feed.ingest', { priority: 4, maxAttempts: 1 });

/** One ingestion at a time per worker; across instances the feed lock keeps it to one in all. */
export const feedIngestWorkOptions: Pick<WorkOptions, 'concurrency'> = { concurrency: 1 };

export function feedIngestHandler(feed: FeedIngestService, logger: Logger): JobHandler {
  return async () => {
    const result = await feed.ingest({ trigger: 'api' });
    if (result.kind === 'locked') logger.info('an ingestion asked for by an operator found another one running; nothing to do');
  };
}
