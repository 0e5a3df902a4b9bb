import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedIngestService, FeedTrigger } from '../../../src/catalog/feed/feed-ingest.service.js';
import { createFeedJobs, feedIngestJob } from '../../../src/catalog/feed/feed.jobs.js';
import { startFeedScheduler } from '../../../src/catalog/feed/feed.scheduler.js';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import { DelegatingQueue } from '../../../src/platform/queue/delegating-queue.js';
import { JobRegistry } from '../../../src/platform/queue/jobs.js';
import type { EnqueueOptions } from '../../../src/platform/queue/queue.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { sleep, waitFor } from '../../support/driver-wait.js';

/** One scheduler instance's queue: the database queue, recording the dedupe key of each job it is given. */
class RecordingQueue extends DelegatingQueue {
  constructor(
    inner: DatabaseQueue,
    readonly keys: string[],
  ) {
    super(inner);
  }

  override enqueue(queue: string, payload: unknown, options?: EnqueueOptions): Promise<void> {
    this.keys.push(options?.dedupeKey ?? '');
    return super.enqueue(queue, payload, options);
  }
}

describe('feed scheduler', () => {
  let temp: TempDatabase | undefined;
  const stops: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await temp?.cleanup();
  });

  /**
   * Several scheduler instances over one database, store and job queue, and one worker whose feed
   * records the runs; `queued` holds the dedupe key of each job the schedulers queued.
   */
  async function schedulers(count: number, schedule: string) {
    temp = await createTempDatabase('intake-scheduler');
    const logger = pino({ level: 'silent' });
    const runs: Array<{ trigger: FeedTrigger; at: number }> = [];
    const queued: string[] = [];
    const feed = {
      ingest: async ({ trigger }: { trigger: FeedTrigger }) => {
        runs.push({ trigger, at: Date.now() });
        return { kind: 'locked' as const, heldBy: null };
      },
    } as unknown as FeedIngestService;
    const database = temp.database;
    const queue = new DatabaseQueue({ database, logger, defaultMaxAttempts: 3, defaultBackoff: { baseMs: 10, maxMs: 40 }, leaseMs: 30_000, maxIdleMs: 50 });
    const workers = new JobRegistry([feedIngestJob]).handle(createFeedJobs({ feed, lockLeaseMs: 1_000, logger })).start(queue, { concurrency: 1 });
    stops.push(() => Promise.all(workers.map((w) => w.stop(1_000))).then(() => undefined));
    for (let instance = 0; instance < count; instance++) {
      const scheduler = startFeedScheduler({ queue: new RecordingQueue(queue, queued), database, store: new DatabaseStore(database), logger, schedule, ingestOnStart: true });
      stops.unshift(() => scheduler.stop());
    }
    return { runs, queued };
  }

  it('runs a feed that was never ingested once at start, through the job queue, whatever the number of schedulers', async () => {
    const { runs, queued } = await schedulers(3, '0 2 * * *');
    await waitFor(() => runs.length > 0, 5_000, 'the start-up run');
    await sleep(300);
    expect(runs.map((r) => r.trigger)).toEqual(['startup']);
    expect(queued).toEqual(['startup']);
  });

  it('queues each tick of the schedule on one scheduler only, and a worker runs it', async () => {
    const { runs, queued } = await schedulers(3, '* * * * * *');
    await waitFor(() => runs.filter((r) => r.trigger === 'schedule').length >= 3, 6_000, 'three ticks');
    await sleep(300);
    const ticks = queued.filter((key) => key !== 'startup');
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.every((key) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(key))).toBe(true);
    await waitFor(() => runs.filter((r) => r.trigger === 'schedule').length === ticks.length, 2_000, 'every queued tick to run');
  });

  it('says, on a restart, that the start-up ingestion was already queued, when, and when a start queues it again', async () => {
    temp = await createTempDatabase('intake-scheduler');
    const database = temp.database;
    const store = new DatabaseStore(database);
    const queued: string[] = [];
    const queue = new RecordingQueue(new DatabaseQueue({ database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 3, defaultBackoff: { baseMs: 10, maxMs: 40 }, leaseMs: 30_000 }), queued);
    const start = () => {
      const logs = captureLogs();
      const scheduler = startFeedScheduler({ queue, database, store, logger: createLogger({ level: 'info', role: 'scheduler', destination: logs.destination }), schedule: '0 2 * * *', ingestOnStart: true });
      stops.unshift(() => scheduler.stop());
      return logs;
    };
    const before = Date.now();
    const first = start();
    await waitFor(() => first.lines.some((line) => line.includes('feed ingestion queued')), 5_000, 'the start-up ingestion');
    // The same process restarted: a new scheduler, the feed still never ingested.
    const second = start();
    await waitFor(() => second.lines.some((line) => line.includes('skipped')), 5_000, 'the skip');

    expect(queued).toEqual(['startup']);
    const skipped = second.records().find((r) => String(r.msg).includes('skipped'))!;
    const claimedAt = Date.parse(String(skipped.claimedAt));
    const keptUntil = Date.parse(String(skipped.keptUntil));
    expect(claimedAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(keptUntil - claimedAt).toBe(10 * 60_000);
    expect(skipped.msg).toBe(
      `the start-up feed ingestion was already queued at ${new Date(claimedAt).toISOString()} (by this scheduler before a restart, or by another one); skipped. ` +
        `A start after ${new Date(keptUntil).toISOString()} queues it again if the feed has still not been ingested.`,
    );
    expect(second.lines.join('\n')).not.toContain('another scheduler queued this feed ingestion');
  });
});
