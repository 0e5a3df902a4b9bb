import type { Logger } from 'pino';
import { defineJob, type JobRunner } from '../../platform/queue/jobs.js';
import { RetryableError, type JobHandler, type WorkOptions } from '../../platform/queue/queue.js';
import { describeHolder } from '../../platform/store/lease.js';
import type { FeedIngestService, FeedTrigger, IngestProgress } from './feed-ingest.service.js';

export interface FeedIngestPayload {
  /** Recorded on the run: an operator's request, a tick of the schedule, or the first start. */
  trigger: Exclude<FeedTrigger, 'cli'>;
}

/**
 * An ingestion, run by a worker, so that neither the API nor the scheduler ever parses a feed. A
 * run records its own failure, so it is not retried. An operator's job that finds another
 * ingestion holding the lock waits for it (retried when the lease could have ended), and is
 * parked with the holder named when it waited too long, never dropped; a scheduled one is served
 * by the ingestion already running.
 */
export const feedIngestJob = defineJob<FeedIngestPayload>('feed.ingest', { priority: 4, maxAttempts: 30 });

/**
 * One ingestion at a time per worker; across instances the feed lock keeps it to one in all. A
 * job that found the lock held is tried again within one lease, however long it has waited.
 */
export function feedIngestWorkOptions(lockLeaseMs: number): Pick<WorkOptions, 'concurrency' | 'backoff'> {
  return { concurrency: 1, backoff: { baseMs: Math.min(1_000, lockLeaseMs), maxMs: lockLeaseMs } };
}

const PROGRESS_LOG_MS = 5_000;

/** Takes any payload: a job queued before the trigger travelled in it has none. */
export function feedIngestHandler(feed: FeedIngestService, lockLeaseMs: number, logger?: Logger): JobHandler {
  return async (payload, job) => {
    const trigger = (payload as Partial<FeedIngestPayload> | null)?.trigger ?? 'api';
    const result = await feed.ingest({ trigger, signal: job.signal, onProgress: logger && progressLogger(logger) });
    if (result.kind !== 'locked') return;
    const by = result.heldBy ? describeHolder(result.heldBy) : 'released meanwhile';
    if (trigger !== 'api') {
      logger?.info({ trigger, heldBy: by }, 'another ingestion of the feed is running; this one is skipped');
      return;
    }
    throw new RetryableError(`another feed ingestion holds the lock (${by}); this one runs after it`, lockLeaseMs);
  };
}

function progressLogger(logger: Logger): (progress: IngestProgress) => void {
  let lastLog = 0;
  return (progress) => {
    if (Date.now() - lastLog < PROGRESS_LOG_MS) return;
    lastLog = Date.now();
    logger.info(progress, 'feed ingestion progress');
  };
}

export interface FeedJobsDeps {
  feed: FeedIngestService;
  /** `config.feed.lockLeaseMs`. */
  lockLeaseMs: number;
  logger: Logger;
}

/** Everything a worker process needs to run `feed.ingest` jobs. */
export function createFeedJobs(deps: FeedJobsDeps): JobRunner<FeedIngestPayload> {
  return {
    definition: feedIngestJob,
    handler: feedIngestHandler(deps.feed, deps.lockLeaseMs, deps.logger.child({ job: feedIngestJob.queue })),
    workOptions: feedIngestWorkOptions(deps.lockLeaseMs),
  };
}
