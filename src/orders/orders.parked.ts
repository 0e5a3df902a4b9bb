import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import type { Queue } from '../platform/queue/queue.js';
import type { ItemDetails } from './orders.integration.js';
import { orderIntegrationJob } from './orders.jobs.js';
import { findItemForDispatch, updateItemStatus } from './orders.repository.js';

export interface ParkedItemsDeps {
  database: Database;
  queue: Queue;
  clock: Clock;
  logger: Logger;
}

/**
 * The handler writes `failed` itself when it gives up, but a job can also be parked without the
 * handler having a last word: a worker killed during the final attempt leaves its lease to
 * expire, and the queue parks the job without running it again. Its item would stay
 * `processing` for ever. This marks such items `failed` with the parked job's attempts and
 * error; items that are already completed or failed are left alone. Returns how many it marked.
 */
export async function failItemsOfParkedJobs(deps: ParkedItemsDeps, limit = 100): Promise<number> {
  let marked = 0;
  for (const job of await deps.queue.parked(orderIntegrationJob.queue, { limit })) {
    const itemId = (job.payload as { itemId?: unknown } | null)?.itemId;
    if (typeof itemId !== 'number') continue;
    const item = await findItemForDispatch(deps.database.db, itemId);
    if (!item || item.status === 'completed' || item.status === 'failed') continue;
    const details: ItemDetails = { status_code: null, attempts: job.attempts, duration_ms: 0, last_error: job.lastError ?? 'job parked' };
    const now = deps.clock.now();
    if (await deps.database.write((db) => updateItemStatus(db, itemId, 'failed', JSON.stringify(details), now))) marked++;
  }
  if (marked > 0) deps.logger.warn({ items: marked }, 'marked items failed whose job was parked without a final outcome');
  return marked;
}

/** Runs `failItemsOfParkedJobs` every `intervalMs` (never two at once) until stopped. */
export function watchParkedItems(deps: ParkedItemsDeps, intervalMs: number): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    failItemsOfParkedJobs(deps)
      .catch((error: unknown) => deps.logger.error({ err: error }, 'could not reconcile the items of parked jobs'))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
