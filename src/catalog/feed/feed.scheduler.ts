import { Cron } from 'croner';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/db/database.js';
import { enqueueJob } from '../../platform/queue/jobs.js';
import type { Queue } from '../../platform/queue/queue.js';
import type { Store } from '../../platform/store/store.js';
import { claimTick, type TickClaim } from '../../platform/store/tick-claim.js';
import { hasSucceededOnce } from './feed-runs.repository.js';
import { feedIngestJob, type FeedIngestPayload } from './feed.jobs.js';

const STARTUP_TICK = 'startup';
/** How long the start-up run's claim is kept: a restart within it does not queue another. */
const STARTUP_CLAIM_MS = 10 * 60_000;

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
    const claim = await claimTick(deps.store, 'feed-ingest', tick, owner, keepMs);
    if (!claim.claimed) {
      log.info({ tick, claimedAt: claim.claimedAt?.toISOString(), keptUntil: claim.keptUntil?.toISOString() }, skippedMessage(tick, claim));
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
      if (!succeeded && deps.ingestOnStart) await enqueue(STARTUP_TICK, 'startup', STARTUP_CLAIM_MS);
    })
    .catch((error: unknown) => log.error({ err: error }, 'could not queue the start-up feed ingestion (the feed was never ingested)'));
  log.info({ schedule: deps.schedule, next: cron.nextRun()?.toISOString() }, 'feed schedule started');
  return {
    stop() {
      cron.stop();
    },
  };
}

/**
 * Why a tick was skipped. A cron tick is fired once per process, so another scheduler took it. The
 * start-up claim is kept STARTUP_CLAIM_MS across restarts, so that a process restarting in a loop
 * does not queue an ingestion each time: the one that took it may be this process's predecessor.
 */
function skippedMessage(tick: string, claim: Extract<TickClaim, { claimed: false }>): string {
  const at = claim.claimedAt ? ` at ${claim.claimedAt.toISOString()}` : '';
  if (tick !== STARTUP_TICK) return `the feed ingestion of tick ${tick} was already queued${at} by another scheduler; skipped`;
  const again = claim.keptUntil ? ` A start after ${claim.keptUntil.toISOString()} queues it again if the feed has still not been ingested.` : '';
  return `the start-up feed ingestion was already queued${at} (by this scheduler before a restart, or by another one); skipped.${again}`;
}
