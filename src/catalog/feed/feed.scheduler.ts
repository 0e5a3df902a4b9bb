import { Cron } from 'croner';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/db/database.js';
import type { Store } from '../../platform/store/store.js';
import { claimTick } from '../../platform/store/tick-claim.js';
import type { FeedIngestService, FeedTrigger } from './feed-ingest.service.js';
import { hasSucceededOnce } from './feed-runs.repository.js';

export interface FeedSchedulerDeps {
  feed: FeedIngestService;
  database: Database;
  store: Store;
  logger: Logger;
  schedule: string;
  ingestOnStart: boolean;
}

/**
 * Runs the ingestion on its cron schedule (UTC), and once at start when no run has ever
 * succeeded. Several schedulers may run: each tick (and the start-up run) is claimed in the
 * store, so one of them fires it; the ingestion's own lock keeps any other trigger from overlapping.
 */
export function startFeedScheduler(deps: FeedSchedulerDeps): { stop(): void } {
  const log = deps.logger.child({ task: 'feed-schedule' });
  const owner = randomUUID();
  let running: Promise<void> | undefined;
  const claimed = async (tick: Date | string, keepMs?: number) => {
    if (await claimTick(deps.store, 'feed-ingest', tick, owner, keepMs)) return true;
    log.info({ tick }, 'another scheduler fired this feed ingestion; skipped');
    return false;
  };
  const run = (trigger: FeedTrigger) => {
    running ??= (async () => {
      let lastLog = 0;
      const result = await deps.feed.ingest({
        trigger,
        onProgress: (p) => {
          if (Date.now() - lastLog < 5000) return;
          lastLog = Date.now();
          log.info(p, 'feed ingestion progress');
        },
      });
      if (result.kind === 'locked') log.info('another instance is ingesting the feed; skipped');
    })()
      .catch((error: unknown) => log.error({ err: error }, 'scheduled feed ingestion crashed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const cron = new Cron(deps.schedule, { timezone: 'UTC', protect: true }, async (self: Cron) => {
    const tick = self.currentRun() ?? new Date();
    if (await claimed(tick).catch((error: unknown) => void log.error({ err: error }, 'could not claim the feed schedule tick'))) await run('schedule');
  });
  void hasSucceededOnce(deps.database.db)
    .then(async (succeeded) => {
      if (succeeded || !deps.ingestOnStart || !(await claimed('startup', 10 * 60_000))) return;
      log.info('the feed has never been ingested: ingesting now');
      await run('startup');
    })
    .catch((error: unknown) => log.error({ err: error }, 'could not check the feed history'));
  log.info({ schedule: deps.schedule, next: cron.nextRun()?.toISOString() }, 'feed schedule started');
  return {
    stop() {
      cron.stop();
    },
  };
}
