import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/database.js';
import type { FeedIngestService, FeedTrigger } from './feed-ingest.service.js';
import { hasSucceededOnce } from './feed-runs.repository.js';

export interface FeedSchedulerDeps {
  feed: FeedIngestService;
  database: Database;
  logger: Logger;
  schedule: string;
  ingestOnStart: boolean;
}

/**
 * Runs the ingestion on its cron schedule (UTC), and once at start when no run has ever
 * succeeded. Several schedulers may run: the ingestion's store lock lets one of them work.
 */
export function startFeedScheduler(deps: FeedSchedulerDeps): { stop(): void } {
  const log = deps.logger.child({ task: 'feed-schedule' });
  let running: Promise<void> | undefined;
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
  const cron = new Cron(deps.schedule, { timezone: 'UTC', protect: true }, () => run('schedule'));
  void hasSucceededOnce(deps.database.db)
    .then((succeeded) => {
      if (!succeeded && deps.ingestOnStart) {
        log.info('the feed has never been ingested: ingesting now');
        return run('startup');
      }
      return undefined;
    })
    .catch((error: unknown) => log.error({ err: error }, 'could not check the feed history'));
  log.info({ schedule: deps.schedule, next: cron.nextRun()?.toISOString() }, 'feed schedule started');
  return {
    stop() {
      cron.stop();
    },
  };
}
