import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { FeedIngestService, IngestOptions, IngestResult } from '../../../src/catalog/feed/feed-ingest.service.js';
import { createFeedJobs, feedIngestJob } from '../../../src/catalog/feed/feed.jobs.js';
import { RetryableError, type JobContext } from '../../../src/platform/queue/queue.js';

/** The `feed.ingest` runner over a feed that answers `result` and records each ingestion's trigger. */
function feedJobs(result: IngestResult) {
  const triggers: string[] = [];
  const feed = {
    ingest: async ({ trigger }: IngestOptions) => {
      triggers.push(trigger);
      return result;
    },
  } as unknown as FeedIngestService;
  return { jobs: createFeedJobs({ feed, lockLeaseMs: 2_000, logger: pino({ level: 'silent' }) }), triggers };
}

const job: JobContext = { id: '1', queue: feedIngestJob.queue, attempt: 1, maxAttempts: 30, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: new AbortController().signal };
const locked: IngestResult = { kind: 'locked', heldBy: { holder: 'other-host:42', since: 0 } };

describe('feed.ingest job', () => {
  it('records the trigger it carries on the run, and an operator’s for a job queued without one', async () => {
    const { jobs, triggers } = feedJobs({ kind: 'finished', run: {} as never });
    await jobs.handler({ trigger: 'schedule' }, job);
    await jobs.handler({ trigger: 'startup' }, job);
    await jobs.handler({} as never, job);
    expect(triggers).toEqual(['schedule', 'startup', 'api']);
  });

  it('leaves a scheduled tick to the ingestion already running', async () => {
    const { jobs } = feedJobs(locked);
    await expect(jobs.handler({ trigger: 'schedule' }, job)).resolves.toBeUndefined();
    await expect(jobs.handler({ trigger: 'startup' }, job)).resolves.toBeUndefined();
  });

  it('makes an operator’s ingestion wait for the one running, one lease at a time', async () => {
    const { jobs } = feedJobs(locked);
    const failure = await jobs.handler({ trigger: 'api' }, job).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RetryableError);
    expect(failure).toMatchObject({ retryAfterMs: 2_000, message: expect.stringContaining('other-host:42') });
  });
});
