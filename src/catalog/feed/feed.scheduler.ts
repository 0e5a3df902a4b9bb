import { Cron } from 'croner';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/db/database.js';
import { enqueueJob } from '../../platform/queue/jobs.js';
import type { Queue } from '../../platform/queue/queue.js';
import type { Store } from '../../platform/store/store.js';
import { claimTick } from '../../platform/store/tick-claim.js';
import { hasSucceededOnce } from './feed-runs.repository.js';
import { feedIngestJob, type FeedIngestPayload } from './feed.jobs.js';

export interface FeedSchedulerDeps {
  queue: Queue;
  database: Database;
  store: Store;
  logger: Logger;
  schedule: string;
  ingestOnStart: boolean;
}

/**
 * Queues a `feed.ingest` job on each tick of the cron schedule (UTC), and once at start when no
 * run has ever succeeded; a worker runs it, as it runs an operator's. Several schedulers may run:
 * each tick (and the start-up run) is claimed in the store, so one of them queues it, and its
 * dedupe key (the tick's ISO time, or `startup`) keeps a tick to one live job in the queue.
 */
export function startFeedScheduler(deps: FeedSchedulerDeps): { stop(): void } {
  const log = deps.logger.child({ task: 'feed-schedule' });
  const owner = randomUUID();
  const enqueue = async (tick: string, trigger: FeedIngestPayload['trigger'], keepMs?: number) => {
    if (!(await claimTick(deps.store, 'feed-ingest', tick, owner, keepMs))) {
      log.info({ tick }, 'another scheduler queued this feed ingestion; skipped');
      return;
    }
    await enqueueJob(deps.queue, feedIngestJob, { trigger }, { dedupeKey: tick });
    log.info({ tick, trigger }, 'feed ingestion queued');
  };
  const cron = new Cron(deps.schedule, { timezone: 'UTC', protect: true }, async (self: Cron) => {
    const tick = (self.currentRun() ?? new Date()).toISOString();
    await enqueue(tick, 'schedule').catch((error: unknown) => log.error({ err: error, tick }, 'could not queue the scheduled feed ingestion'));
  });
  void hasSucceededOnce(deps.database.db)
    .then(async (succeeded) => {
      if (!succeeded && deps.ingestOnStart) await enqueue('startup', 'startup', 10 * 60_000);
    })
    .catch((error: unknown) => log.error({ err: error }, 'could not queue the start-up feed ingestion (the feed was never ingested)'));
  log.info({ schedule: deps.schedule, next: cron.nextRun()?.toISOString() }, 'feed schedule started');
  return {
    stop() {
      cron.stop();
    },
  };
}
