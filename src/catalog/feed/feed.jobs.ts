import { defineJob } from '../../platform/queue/jobs.js';
import { RetryableError, type JobHandler, type WorkOptions } from '../../platform/queue/queue.js';
import { describeHolder } from '../../platform/store/lease.js';
import type { FeedIngestService } from './feed-ingest.service.js';

/**
 * An ingestion an operator asked for: queued by the API, run by a worker, so that the API role
 * never parses a feed. A run records its own failure, so it is not retried; a job that finds
 * another ingestion holding the lock waits for it (retried when the lease could have ended), and
 * is parked with the holder named when it waited too long, never dropped.
 */
export const feedIngestJob = defineJob<Record<string, never>>('feed.ingest', { priority: 4, maxAttempts: 30 });

/**
 * One ingestion at a time per worker; across instances the feed lock keeps it to one in all. A
 * job that found the lock held is tried again within one lease, however long it has waited.
 */
export function feedIngestWorkOptions(lockLeaseMs: number): Pick<WorkOptions, 'concurrency' | 'backoff'> {
  return { concurrency: 1, backoff: { baseMs: Math.min(1_000, lockLeaseMs), maxMs: lockLeaseMs } };
}

export function feedIngestHandler(feed: FeedIngestService, lockLeaseMs: number): JobHandler {
  return async (_payload, job) => {
    const result = await feed.ingest({ trigger: 'api', signal: job.signal });
    if (result.kind === 'locked') {
      const by = result.heldBy ? describeHolder(result.heldBy) : 'released meanwhile';
      throw new RetryableError(`another feed ingestion holds the lock (${by}); this one runs after it`, lockLeaseMs);
    }
  };
}
